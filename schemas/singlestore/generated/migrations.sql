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
