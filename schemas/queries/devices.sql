-- Device types (desktop, mobile, tablet, bot, other), by requests, with each one's share.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param limit int 20  Rows to return.
SELECT
  c.device_type,
  c.requests,
  {{ratio(c.requests, t.total)}} AS share
FROM (
  SELECT COALESCE(device_type, '(unknown)') AS device_type, COUNT(*) AS requests
  FROM requests
  WHERE project_id = :project AND ts >= :from AND ts < :to
  GROUP BY COALESCE(device_type, '(unknown)')
) c
CROSS JOIN (
  SELECT COUNT(*) AS total
  FROM requests
  WHERE project_id = :project AND ts >= :from AND ts < :to
) t
ORDER BY c.requests DESC, c.device_type
LIMIT :limit
