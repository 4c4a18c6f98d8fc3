-- Browsers and client libraries, by requests, with each one's share.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param limit int 20  Rows to return.
SELECT
  browser,
  requests,
  {{ratio(requests, total)}} AS share
FROM (
  -- The total is a window over the groups, so the rows are read once.
  SELECT browser, requests, SUM(requests) OVER () AS total
  FROM (
    -- NULL is named once per group, not once per row; grouping again merges it with a value
    -- really spelt (unknown), should there be one.
    SELECT COALESCE(browser, '(unknown)') AS browser, SUM(requests) AS requests
    FROM (
      SELECT browser, COUNT(*) AS requests
      FROM requests
      WHERE project_id = :project AND ts >= :from AND ts < :to
      GROUP BY browser
    ) g
    GROUP BY COALESCE(browser, '(unknown)')
  ) c
) s
ORDER BY requests DESC, browser
LIMIT :limit
