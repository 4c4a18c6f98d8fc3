-- Requests, errors and the error share per minute: the traffic chart.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
SELECT
  {{minute(ts)}} AS minute,
  COUNT(*) AS requests,
  {{count_true(is_error)}} AS errors,
  {{ratio({{count_true(is_error)}}, COUNT(*))}} AS error_rate
FROM requests
WHERE project_id = :project AND ts >= :from AND ts < :to
GROUP BY {{minute(ts)}}
ORDER BY minute
