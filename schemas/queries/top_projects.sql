-- The busiest projects across the whole warehouse, with error rate and p95 latency.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param limit int 20  Projects to return.
SELECT
  project_id,
  COUNT(*) AS requests,
  {{count_true(is_error)}} AS errors,
  {{ratio({{count_true(is_error)}}, COUNT(*))}} AS error_rate,
  ROUND({{percentile(latency_ms, 0.95)}}, 3) AS p95_ms
FROM requests
WHERE ts >= :from AND ts < :to
GROUP BY project_id
ORDER BY requests DESC, project_id
LIMIT :limit
