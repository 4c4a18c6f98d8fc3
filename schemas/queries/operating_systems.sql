-- Operating systems, by requests, with each one's share.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param limit int 20  Rows to return.
SELECT
  c.os,
  c.requests,
  {{ratio(c.requests, t.total)}} AS share
FROM (
  SELECT COALESCE(os, '(unknown)') AS os, COUNT(*) AS requests
  FROM requests
  WHERE project_id = :project AND ts >= :from AND ts < :to
  GROUP BY COALESCE(os, '(unknown)')
) c
CROSS JOIN (
  SELECT COUNT(*) AS total
  FROM requests
  WHERE project_id = :project AND ts >= :from AND ts < :to
) t
ORDER BY c.requests DESC, c.os
LIMIT :limit
