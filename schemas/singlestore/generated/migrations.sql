-- Generated from schemas/request-row.ts by schemas/singlestore/migrations.ts: do not edit.
-- `shardline warehouse init` applies these and records them in _shardline_migrations.

CREATE REFERENCE TABLE IF NOT EXISTS `_shardline_migrations` (
  `version` INT NOT NULL PRIMARY KEY,
  `name` VARCHAR(200) NOT NULL,
  `applied_at` DATETIME(6) NOT NULL
);

-- 1: create requests
CREATE TABLE IF NOT EXISTS `requests` (
  `ts` DATETIME(6) NOT NULL,
  `project_id` VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `request_id` VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `method` VARCHAR(16) NOT NULL,
  `host` TEXT NULL,
  `path` TEXT NOT NULL,
  `query` TEXT NULL,
  `endpoint` TEXT NOT NULL,
  `status` SMALLINT NOT NULL,
  `status_class` VARCHAR(8) NOT NULL,
  `is_error` BOOL NOT NULL,
  `latency_ms` DOUBLE NOT NULL,
  `bytes_in` BIGINT NULL,
  `bytes_out` BIGINT NULL,
  `client_ip` TEXT NULL,
  `country` VARCHAR(8) NULL,
  `city` TEXT NULL,
  `user_agent` TEXT NULL,
  `browser` TEXT NULL,
  `browser_version` TEXT NULL,
  `os` TEXT NULL,
  `device_type` VARCHAR(16) NOT NULL,
  `is_bot` BOOL NOT NULL,
  `headers` MEDIUMTEXT NULL,
  `request_body` MEDIUMTEXT NULL,
  `response_body` MEDIUMTEXT NULL,
  `redacted` TEXT NULL,
  `protocol` TEXT NULL,
  `service` TEXT NULL,
  `environment` TEXT NULL,
  `ingest_ts` DATETIME(6) NOT NULL,
  `shard_id` VARCHAR(64) NOT NULL,
  `sequence_number` VARCHAR(64) NOT NULL,
  `sub_sequence` INT NOT NULL,
  SORT KEY (`project_id`, `ts`),
  SHARD KEY (`request_id`),
  UNIQUE KEY `request_key` (`project_id`, `request_id`, `ts`) USING HASH
);

-- 2: generation: replayed rows replace the rows they re-derive
ALTER TABLE `requests` ADD COLUMN `generation` BIGINT NOT NULL DEFAULT 0;
CREATE OR REPLACE PROCEDURE `shardline_apply_replay`(batch QUERY(
  `ts` DATETIME(6),
  `project_id` VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  `request_id` VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  `method` VARCHAR(16),
  `host` TEXT,
  `path` TEXT,
  `query` TEXT,
  `endpoint` TEXT,
  `status` SMALLINT,
  `status_class` VARCHAR(8),
  `is_error` BOOL,
  `latency_ms` DOUBLE,
  `bytes_in` BIGINT,
  `bytes_out` BIGINT,
  `client_ip` TEXT,
  `country` VARCHAR(8),
  `city` TEXT,
  `user_agent` TEXT,
  `browser` TEXT,
  `browser_version` TEXT,
  `os` TEXT,
  `device_type` VARCHAR(16),
  `is_bot` BOOL,
  `headers` MEDIUMTEXT,
  `request_body` MEDIUMTEXT,
  `response_body` MEDIUMTEXT,
  `redacted` TEXT,
  `protocol` TEXT,
  `service` TEXT,
  `environment` TEXT,
  `ingest_ts` DATETIME(6),
  `shard_id` VARCHAR(64),
  `sequence_number` VARCHAR(64),
  `sub_sequence` INT,
  `generation` BIGINT
)) AS
BEGIN
  INSERT INTO `requests` (`ts`, `project_id`, `request_id`, `method`, `host`, `path`, `query`, `endpoint`, `status`, `status_class`, `is_error`, `latency_ms`, `bytes_in`, `bytes_out`, `client_ip`, `country`, `city`, `user_agent`, `browser`, `browser_version`, `os`, `device_type`, `is_bot`, `headers`, `request_body`, `response_body`, `redacted`, `protocol`, `service`, `environment`, `ingest_ts`, `shard_id`, `sequence_number`, `sub_sequence`, `generation`)
  SELECT b.`ts`, b.`project_id`, b.`request_id`, b.`method`, b.`host`, b.`path`, b.`query`, b.`endpoint`, b.`status`, b.`status_class`, b.`is_error`, b.`latency_ms`, b.`bytes_in`, b.`bytes_out`, b.`client_ip`, b.`country`, b.`city`, b.`user_agent`, b.`browser`, b.`browser_version`, b.`os`, b.`device_type`, b.`is_bot`, b.`headers`, b.`request_body`, b.`response_body`, b.`redacted`, b.`protocol`, b.`service`, b.`environment`, b.`ingest_ts`, b.`shard_id`, b.`sequence_number`, b.`sub_sequence`, b.`generation`
  FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY `project_id`, `request_id`, `ts`
          ORDER BY `generation` DESC, `ingest_ts`, `sequence_number`, `sub_sequence`) AS `_newest`
        FROM batch) b
  LEFT JOIN `requests` r ON r.`project_id` = b.`project_id` AND r.`request_id` = b.`request_id` AND r.`ts` = b.`ts`
  WHERE b.`_newest` = 1
    AND (r.`request_id` IS NULL
      OR (b.`generation` > r.`generation` AND NOT (b.`method` <=> r.`method`
      AND b.`host` <=> r.`host`
      AND b.`path` <=> r.`path`
      AND b.`query` <=> r.`query`
      AND b.`endpoint` <=> r.`endpoint`
      AND b.`status` <=> r.`status`
      AND b.`status_class` <=> r.`status_class`
      AND b.`is_error` <=> r.`is_error`
      AND b.`latency_ms` <=> r.`latency_ms`
      AND b.`bytes_in` <=> r.`bytes_in`
      AND b.`bytes_out` <=> r.`bytes_out`
      AND b.`client_ip` <=> r.`client_ip`
      AND b.`country` <=> r.`country`
      AND b.`city` <=> r.`city`
      AND b.`user_agent` <=> r.`user_agent`
      AND b.`browser` <=> r.`browser`
      AND b.`browser_version` <=> r.`browser_version`
      AND b.`os` <=> r.`os`
      AND b.`device_type` <=> r.`device_type`
      AND b.`is_bot` <=> r.`is_bot`
      AND b.`headers` <=> r.`headers`
      AND b.`request_body` <=> r.`request_body`
      AND b.`response_body` <=> r.`response_body`
      AND b.`redacted` <=> r.`redacted`
      AND b.`protocol` <=> r.`protocol`
      AND b.`service` <=> r.`service`
      AND b.`environment` <=> r.`environment`)))
  ON DUPLICATE KEY UPDATE
    `method` = VALUES(`method`),
    `host` = VALUES(`host`),
    `path` = VALUES(`path`),
    `query` = VALUES(`query`),
    `endpoint` = VALUES(`endpoint`),
    `status` = VALUES(`status`),
    `status_class` = VALUES(`status_class`),
    `is_error` = VALUES(`is_error`),
    `latency_ms` = VALUES(`latency_ms`),
    `bytes_in` = VALUES(`bytes_in`),
    `bytes_out` = VALUES(`bytes_out`),
    `client_ip` = VALUES(`client_ip`),
    `country` = VALUES(`country`),
    `city` = VALUES(`city`),
    `user_agent` = VALUES(`user_agent`),
    `browser` = VALUES(`browser`),
    `browser_version` = VALUES(`browser_version`),
    `os` = VALUES(`os`),
    `device_type` = VALUES(`device_type`),
    `is_bot` = VALUES(`is_bot`),
    `headers` = VALUES(`headers`),
    `request_body` = VALUES(`request_body`),
    `response_body` = VALUES(`response_body`),
    `redacted` = VALUES(`redacted`),
    `protocol` = VALUES(`protocol`),
    `service` = VALUES(`service`),
    `environment` = VALUES(`environment`),
    `ingest_ts` = VALUES(`ingest_ts`),
    `shard_id` = VALUES(`shard_id`),
    `sequence_number` = VALUES(`sequence_number`),
    `sub_sequence` = VALUES(`sub_sequence`),
    `generation` = VALUES(`generation`)
;
END;
