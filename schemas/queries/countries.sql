-- Requests per client country (DB-IP Lite) and each country's share.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param limit int 50  Countries to return.
SELECT
  c.country,
  c.requests,
  {{ratio(c.requests, t.total)}} AS share
FROM (
  SELECT COALESCE(country, '(unknown)') AS country, COUNT(*) AS requests
  FROM requests
  WHERE project_id = :project AND ts >= :from AND ts < :to
  GROUP BY COALESCE(country, '(unknown)')
) c
CROSS JOIN (
  SELECT COUNT(*) AS total
  FROM requests
  WHERE project_id = :project AND ts >= :from AND ts < :to
) t
ORDER BY c.requests DESC, c.country
LIMIT :limit
