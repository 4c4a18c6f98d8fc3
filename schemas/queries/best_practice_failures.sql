-- Endpoints failing best-practice checks: secrets sent in the URL (path or query string, where
-- proxies and logs keep them), slow p95, too many server errors, oversized responses.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param slow_ms float 1000  p95 latency above this fails `slow`.
-- @param max_server_error_rate float 0.01  A 5xx share above this fails `server_errors`.
-- @param max_response_bytes int 1048576  p95 response size above this fails `large_responses`.
SELECT
  method,
  endpoint,
  requests,
  CONCAT_WS(',',
    CASE WHEN secret_in_url > 0 THEN 'secret_in_url' END,
    CASE WHEN p95_ms > :slow_ms THEN 'slow' END,
    CASE WHEN server_error_rate > :max_server_error_rate THEN 'server_errors' END,
    CASE WHEN p95_response_bytes > :max_response_bytes THEN 'large_responses' END
  ) AS failed_checks,
  secret_in_url,
  p95_ms,
  server_error_rate,
  p95_response_bytes
FROM (
  SELECT
    method,
    endpoint,
    COUNT(*) AS requests,
    -- Two substring tests rule out most lists (header and body names) in one pass each; the exact
    -- test, four patterns, runs only on the lists left.
    {{count_true((CASE WHEN redacted LIKE '%query:%' OR redacted LIKE '%path:%'
      THEN redacted LIKE 'query:%' OR redacted LIKE '%,query:%' OR redacted LIKE 'path:%' OR redacted LIKE '%,path:%'
    END))}} AS secret_in_url,
    ROUND({{percentile(latency_ms, 0.95)}}, 3) AS p95_ms,
    {{ratio({{count_true(status >= 500)}}, COUNT(*))}} AS server_error_rate,
    ROUND({{percentile(bytes_out, 0.95)}}, 0) AS p95_response_bytes
  FROM requests
  WHERE project_id = :project AND ts >= :from AND ts < :to
  GROUP BY method, endpoint
) e
WHERE secret_in_url > 0
   OR p95_ms > :slow_ms
   OR server_error_rate > :max_server_error_rate
   OR p95_response_bytes > :max_response_bytes
ORDER BY requests DESC, endpoint, method
