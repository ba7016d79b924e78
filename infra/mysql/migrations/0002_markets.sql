-- 0002 markets: current markets and prices, and the append-only odds history.
-- Conventions: see 0001_core.sql (UTC DATETIME(6), DECIMAL prices, ENUMs mirror shared/enums.py).

CREATE TABLE IF NOT EXISTS markets (
    event_id       VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    market_key     VARCHAR(200) COLLATE utf8mb4_bin NOT NULL
                   COMMENT 'type|specifier=value|... sorted and normalised (shared.markets)',
    market_type    VARCHAR(48) COLLATE utf8mb4_bin NOT NULL,
    status         ENUM('active', 'suspended', 'deactivated', 'settled', 'cancelled',
                        'handed_over') NOT NULL,
    producer       VARCHAR(32) NULL,
    provider       VARCHAR(32) NOT NULL,
    status_reason  VARCHAR(200) NULL COMMENT 'why the status last changed (bet stop reason...)',
    provider_ts    DATETIME(6) NOT NULL COMMENT 'UTC: provider time of the applied state',
    updated_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                   ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'UTC: last change of this row',
    PRIMARY KEY (event_id, market_key),
    KEY markets_event_status (event_id, status),
    -- A provider that stops sending alive messages has its active markets suspended.
    KEY markets_provider_status (provider, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Current status of every market';

CREATE TABLE IF NOT EXISTS outcomes (
    event_id    VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    market_key  VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
    outcome_id  VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    price       DECIMAL(10,4) NULL COMMENT 'decimal odds; NULL while not priced',
    active      BOOLEAN NOT NULL,
    updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
                COMMENT 'UTC: last change of this row',
    PRIMARY KEY (event_id, market_key, outcome_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Current price of every outcome';

-- Append-only: one row per outcome of every applied odds change, never updated.
CREATE TABLE IF NOT EXISTS odds_history (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_id       VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    market_key     VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
    outcome_id     VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    price          DECIMAL(10,4) NULL COMMENT 'decimal odds; NULL while not priced',
    active         BOOLEAN NOT NULL,
    market_status  ENUM('active', 'suspended', 'deactivated', 'settled', 'cancelled',
                        'handed_over') NOT NULL,
    provider_ts    DATETIME(6) NOT NULL COMMENT 'UTC: provider time of the change',
    recorded_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                   COMMENT 'UTC: when the processor wrote it',
    message_id     VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (id),
    KEY odds_history_event_market_ts (event_id, market_key, provider_ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Every applied price change (append-only)';
