-- p50 / p95 / p99 latency (ms) per endpoint, busiest endpoints first.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param limit int 50  Endpoints to return.
SELECT
  method,
  endpoint,
  COUNT(*) AS requests,
  -- The same list in all three: DuckDB computes them in one aggregate (see sql-dialect.ts).
  ROUND({{percentile(latency_ms, 0.5, [0.5, 0.95, 0.99])}}, 3) AS p50_ms,
  ROUND({{percentile(latency_ms, 0.95, [0.5, 0.95, 0.99])}}, 3) AS p95_ms,
  ROUND({{percentile(latency_ms, 0.99, [0.5, 0.95, 0.99])}}, 3) AS p99_ms
FROM requests
WHERE project_id = :project AND ts >= :from AND ts < :to
GROUP BY method, endpoint
ORDER BY requests DESC, endpoint, method
LIMIT :limit
