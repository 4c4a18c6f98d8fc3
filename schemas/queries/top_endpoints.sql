-- The busiest endpoints, with their errors and error rate.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param limit int 20  Endpoints to return.
SELECT
  method,
  endpoint,
  COUNT(*) AS requests,
  {{count_true(is_error)}} AS errors,
  {{ratio({{count_true(is_error)}}, COUNT(*))}} AS error_rate
FROM requests
WHERE project_id = :project AND ts >= :from AND ts < :to
GROUP BY method, endpoint
ORDER BY requests DESC, endpoint, method
LIMIT :limit
