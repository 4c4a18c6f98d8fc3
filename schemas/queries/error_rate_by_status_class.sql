-- Requests per status class (2xx, 4xx, 5xx, …) and each class's share of all requests.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
SELECT
  c.status_class,
  c.requests,
  {{ratio(c.requests, t.total)}} AS share
FROM (
  SELECT status_class, COUNT(*) AS requests
  FROM requests
  WHERE project_id = :project AND ts >= :from AND ts < :to
  GROUP BY status_class
) c
CROSS JOIN (
  SELECT COUNT(*) AS total
  FROM requests
  WHERE project_id = :project AND ts >= :from AND ts < :to
) t
ORDER BY c.status_class
