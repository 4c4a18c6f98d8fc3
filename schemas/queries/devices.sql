-- Device types (desktop, mobile, tablet, bot, other), by requests, with each one's share.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param limit int 20  Rows to return.
SELECT
  device_type,
  requests,
  {{ratio(requests, total)}} AS share
FROM (
  -- The total is a window over the groups, so the rows are read once.
  SELECT device_type, requests, SUM(requests) OVER () AS total
  FROM (
    -- device_type is NOT NULL (schemas/request-row.ts), so there is no NULL to name.
    SELECT device_type, COUNT(*) AS requests
    FROM requests
    WHERE project_id = :project AND ts >= :from AND ts < :to
    GROUP BY device_type
  ) c
) s
ORDER BY requests DESC, device_type
LIMIT :limit
