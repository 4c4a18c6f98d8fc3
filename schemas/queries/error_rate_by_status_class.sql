-- Requests per status class (2xx, 4xx, 5xx, …) and each class's share of all requests.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
SELECT
  status_class,
  requests,
  {{ratio(requests, total)}} AS share
FROM (
  -- The total is a window over the groups, so the rows are read once.
  SELECT status_class, requests, SUM(requests) OVER () AS total
  FROM (
    SELECT status_class, COUNT(*) AS requests
    FROM requests
    WHERE project_id = :project AND ts >= :from AND ts < :to
    GROUP BY status_class
  ) c
) s
ORDER BY status_class
