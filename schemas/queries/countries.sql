-- Requests per client country (DB-IP Lite) and each country's share.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param limit int 50  Countries to return.
SELECT
  country,
  requests,
  {{ratio(requests, total)}} AS share
FROM (
  -- The total is a window over the groups, so the rows are read once.
  SELECT country, requests, SUM(requests) OVER () AS total
  FROM (
    -- NULL is named once per group, not once per row; grouping again merges it with a value
    -- really spelt (unknown), should there be one.
    SELECT COALESCE(country, '(unknown)') AS country, SUM(requests) AS requests
    FROM (
      SELECT country, COUNT(*) AS requests
      FROM requests
      WHERE project_id = :project AND ts >= :from AND ts < :to
      GROUP BY country
    ) g
    GROUP BY COALESCE(country, '(unknown)')
  ) c
) s
ORDER BY requests DESC, country
LIMIT :limit
