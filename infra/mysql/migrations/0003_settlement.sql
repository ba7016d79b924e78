-- 0003 settlement: results and cancellations, kept (not deleted) when rolled back.
-- Conventions: see 0001_core.sql (UTC DATETIME(6), DECIMAL factors, ENUMs mirror shared/enums.py).
-- The rows in force are those with rolled_back_at IS NULL.

CREATE TABLE IF NOT EXISTS settlements (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_id          VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    market_key        VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
    outcome_id        VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    result            ENUM('won', 'lost') NOT NULL,
    void_factor       DECIMAL(3,2) NOT NULL DEFAULT 0 COMMENT 'share of the stake returned',
    dead_heat_factor  DECIMAL(6,4) NULL COMMENT 'scales a shared win; NULL: no dead heat',
    certainty         ENUM('live_scouted', 'confirmed') NOT NULL,
    message_id        VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    provider_ts       DATETIME(6) NOT NULL COMMENT 'UTC: provider time of the settlement',
    settled_at        DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                      COMMENT 'UTC: when the processor applied it',
    rolled_back_at    DATETIME(6) NULL COMMENT 'UTC: when a rollback undid it; NULL: in force',
    rolled_back_by    VARCHAR(128) COLLATE utf8mb4_bin NULL COMMENT 'message_id of the rollback',
    PRIMARY KEY (id),
    KEY settlements_event_market (event_id, market_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Outcome results with void and dead-heat factors';

CREATE TABLE IF NOT EXISTS cancellations (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_id        VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    market_key      VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
    void_reason     VARCHAR(200) NULL,
    start_time      DATETIME(6) NULL COMMENT 'UTC: void bets placed from; NULL: open start',
    end_time        DATETIME(6) NULL COMMENT 'UTC: void bets placed until; NULL: open end',
    message_id      VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    provider_ts     DATETIME(6) NOT NULL COMMENT 'UTC: provider time of the cancellation',
    cancelled_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                    COMMENT 'UTC: when the processor applied it',
    rolled_back_at  DATETIME(6) NULL COMMENT 'UTC: when a rollback undid it; NULL: in force',
    rolled_back_by  VARCHAR(128) COLLATE utf8mb4_bin NULL COMMENT 'message_id of the rollback',
    PRIMARY KEY (id),
    KEY cancellations_event_market (event_id, market_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Voided markets, optionally for a betting window';
