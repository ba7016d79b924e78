-- 0004 ledger: the one disposition of every accepted message, and provider liveness.
-- Conventions: see 0001_core.sql (UTC DATETIME(6), ENUMs mirror shared/enums.py).

CREATE TABLE IF NOT EXISTS provider_liveness (
    provider       VARCHAR(32) NOT NULL,
    last_alive_at  DATETIME(6) NOT NULL COMMENT 'UTC: provider_ts of the newest alive message',
    suspended_at   DATETIME(6) NULL
                   COMMENT 'UTC: when silence suspended its markets; NULL: not suspended',
    PRIMARY KEY (provider)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Heartbeat of each provider';

-- One row per message_id, written in the same transaction as the change it caused, so
-- the primary key is the idempotency guard: an INSERT that hits it is a duplicate.
CREATE TABLE IF NOT EXISTS ledger (
    message_id       VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    provider         VARCHAR(32) NOT NULL,
    sport            ENUM('football', 'basketball', 'tennis', 'ice_hockey') NOT NULL,
    event_id         VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    kind             ENUM('fixture', 'live', 'odds', 'bet_stop', 'settlement', 'cancel',
                          'rollback', 'alive') NOT NULL,
    provider_ts      DATETIME(6) NOT NULL COMMENT 'UTC: provider time of the message',
    received_at      DATETIME(6) NOT NULL COMMENT 'UTC: when ingestion received it',
    processed_at     DATETIME(6) NOT NULL COMMENT 'UTC: when the processor decided',
    disposition      ENUM('applied', 'duplicate', 'stale', 'rejected') NOT NULL,
    reason           VARCHAR(1000) NULL COMMENT 'why stale or rejected',
    kafka_partition  INT NULL,
    kafka_offset     BIGINT NULL,
    PRIMARY KEY (message_id),
    KEY ledger_sport_provider_processed (sport, provider, processed_at),
    KEY ledger_event (event_id),
    KEY ledger_disposition_processed (disposition, processed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Disposition of every accepted message (first delivery of each message_id)';

-- The ledger's primary key leaves no room for a second row with the same message_id, so
-- further deliveries of an id (a provider re-send that ingestion accepted again) are
-- counted here, disposition duplicate. A crash replay of a Kafka record is not a new
-- delivery: it has the same (sport, partition, offset) as the row already written, and
-- the unique key turns its second insert into a no-op. Accepted messages are therefore
-- COUNT(ledger) + COUNT(ledger_duplicates).
CREATE TABLE IF NOT EXISTS ledger_duplicates (
    id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    message_id       VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    provider         VARCHAR(32) NOT NULL,
    sport            ENUM('football', 'basketball', 'tennis', 'ice_hockey') NOT NULL,
    event_id         VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    kind             ENUM('fixture', 'live', 'odds', 'bet_stop', 'settlement', 'cancel',
                          'rollback', 'alive') NOT NULL,
    provider_ts      DATETIME(6) NOT NULL COMMENT 'UTC: provider time of the message',
    received_at      DATETIME(6) NOT NULL COMMENT 'UTC: when ingestion received it',
    processed_at     DATETIME(6) NOT NULL COMMENT 'UTC: when the processor decided',
    kafka_partition  INT NULL,
    kafka_offset     BIGINT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY ledger_duplicates_record (sport, kafka_partition, kafka_offset),
    KEY ledger_duplicates_message (message_id),
    KEY ledger_duplicates_processed (sport, provider, processed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Repeated deliveries of a message_id already in the ledger';
