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
  SELECT `ts`, `project_id`, `request_id`, `method`, `host`, `path`, `query`, `endpoint`, `status`, `status_class`, `is_error`, `latency_ms`, `bytes_in`, `bytes_out`, `client_ip`, `country`, `city`, `user_agent`, `browser`, `browser_version`, `os`, `device_type`, `is_bot`, `headers`, `request_body`, `response_body`, `redacted`, `protocol`, `service`, `environment`, `ingest_ts`, `shard_id`, `sequence_number`, `sub_sequence`, `generation` FROM batch
  ON DUPLICATE KEY UPDATE
    `generation` = IF(VALUES(`generation`) > `generation` AND NOT (`method` <=> VALUES(`method`)
      AND `host` <=> VALUES(`host`)
      AND `path` <=> VALUES(`path`)
      AND `query` <=> VALUES(`query`)
      AND `endpoint` <=> VALUES(`endpoint`)
      AND `status` <=> VALUES(`status`)
      AND `status_class` <=> VALUES(`status_class`)
      AND `is_error` <=> VALUES(`is_error`)
      AND `latency_ms` <=> VALUES(`latency_ms`)
      AND `bytes_in` <=> VALUES(`bytes_in`)
      AND `bytes_out` <=> VALUES(`bytes_out`)
      AND `client_ip` <=> VALUES(`client_ip`)
      AND `country` <=> VALUES(`country`)
      AND `city` <=> VALUES(`city`)
      AND `user_agent` <=> VALUES(`user_agent`)
      AND `browser` <=> VALUES(`browser`)
      AND `browser_version` <=> VALUES(`browser_version`)
      AND `os` <=> VALUES(`os`)
      AND `device_type` <=> VALUES(`device_type`)
      AND `is_bot` <=> VALUES(`is_bot`)
      AND `headers` <=> VALUES(`headers`)
      AND `request_body` <=> VALUES(`request_body`)
      AND `response_body` <=> VALUES(`response_body`)
      AND `redacted` <=> VALUES(`redacted`)
      AND `protocol` <=> VALUES(`protocol`)
      AND `service` <=> VALUES(`service`)
      AND `environment` <=> VALUES(`environment`)), VALUES(`generation`), `generation`),
    `method` = IF(`generation` = VALUES(`generation`), VALUES(`method`), `method`),
    `host` = IF(`generation` = VALUES(`generation`), VALUES(`host`), `host`),
    `path` = IF(`generation` = VALUES(`generation`), VALUES(`path`), `path`),
    `query` = IF(`generation` = VALUES(`generation`), VALUES(`query`), `query`),
    `endpoint` = IF(`generation` = VALUES(`generation`), VALUES(`endpoint`), `endpoint`),
    `status` = IF(`generation` = VALUES(`generation`), VALUES(`status`), `status`),
    `status_class` = IF(`generation` = VALUES(`generation`), VALUES(`status_class`), `status_class`),
    `is_error` = IF(`generation` = VALUES(`generation`), VALUES(`is_error`), `is_error`),
    `latency_ms` = IF(`generation` = VALUES(`generation`), VALUES(`latency_ms`), `latency_ms`),
    `bytes_in` = IF(`generation` = VALUES(`generation`), VALUES(`bytes_in`), `bytes_in`),
    `bytes_out` = IF(`generation` = VALUES(`generation`), VALUES(`bytes_out`), `bytes_out`),
    `client_ip` = IF(`generation` = VALUES(`generation`), VALUES(`client_ip`), `client_ip`),
    `country` = IF(`generation` = VALUES(`generation`), VALUES(`country`), `country`),
    `city` = IF(`generation` = VALUES(`generation`), VALUES(`city`), `city`),
    `user_agent` = IF(`generation` = VALUES(`generation`), VALUES(`user_agent`), `user_agent`),
    `browser` = IF(`generation` = VALUES(`generation`), VALUES(`browser`), `browser`),
    `browser_version` = IF(`generation` = VALUES(`generation`), VALUES(`browser_version`), `browser_version`),
    `os` = IF(`generation` = VALUES(`generation`), VALUES(`os`), `os`),
    `device_type` = IF(`generation` = VALUES(`generation`), VALUES(`device_type`), `device_type`),
    `is_bot` = IF(`generation` = VALUES(`generation`), VALUES(`is_bot`), `is_bot`),
    `headers` = IF(`generation` = VALUES(`generation`), VALUES(`headers`), `headers`),
    `request_body` = IF(`generation` = VALUES(`generation`), VALUES(`request_body`), `request_body`),
    `response_body` = IF(`generation` = VALUES(`generation`), VALUES(`response_body`), `response_body`),
    `redacted` = IF(`generation` = VALUES(`generation`), VALUES(`redacted`), `redacted`),
    `protocol` = IF(`generation` = VALUES(`generation`), VALUES(`protocol`), `protocol`),
    `service` = IF(`generation` = VALUES(`generation`), VALUES(`service`), `service`),
    `environment` = IF(`generation` = VALUES(`generation`), VALUES(`environment`), `environment`),
    `ingest_ts` = IF(`generation` = VALUES(`generation`), VALUES(`ingest_ts`), `ingest_ts`),
    `shard_id` = IF(`generation` = VALUES(`generation`), VALUES(`shard_id`), `shard_id`),
    `sequence_number` = IF(`generation` = VALUES(`generation`), VALUES(`sequence_number`), `sequence_number`),
    `sub_sequence` = IF(`generation` = VALUES(`generation`), VALUES(`sub_sequence`), `sub_sequence`)
;
END;
