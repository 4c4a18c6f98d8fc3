-- The API consumers (client addresses) sending the most requests, with their country and errors.
-- @param project string  Project id.
-- @param from timestamp  Start of the range (inclusive, UTC).
-- @param to timestamp  End of the range (exclusive, UTC).
-- @param limit int 20  Consumers to return.
SELECT consumer, country, requests, errors
FROM (
  SELECT
    COALESCE(client_ip, '(unknown)') AS consumer,
    COALESCE(MAX(country), '(unknown)') AS country,
    COUNT(*) AS requests,
    {{count_true(is_error)}} AS errors
  FROM requests
  WHERE project_id = :project AND ts >= :from AND ts < :to
  GROUP BY COALESCE(client_ip, '(unknown)')
) c
ORDER BY requests DESC, consumer
LIMIT :limit
