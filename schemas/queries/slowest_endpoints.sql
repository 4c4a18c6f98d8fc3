-- The slowest endpoints by p95 latency, among those with enough requests to judge.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param min_requests int 20  Ignore endpoints with fewer requests than this.
-- @param limit int 10  Endpoints to return.
SELECT method, endpoint, requests, p95_ms, max_ms
FROM (
  SELECT
    method,
    endpoint,
    COUNT(*) AS requests,
    ROUND({{percentile(latency_ms, 0.95)}}, 3) AS p95_ms,
    ROUND(MAX(latency_ms), 3) AS max_ms
  FROM requests
  WHERE project_id = :project AND ts >= :from AND ts < :to
  GROUP BY method, endpoint
) e
WHERE requests >= :min_requests
ORDER BY p95_ms DESC, endpoint, method
LIMIT :limit
