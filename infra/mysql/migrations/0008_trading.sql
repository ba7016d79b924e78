-- 0008 trading: the paper-trading simulator (services/trading, docs/trading.md).
-- Conventions: see 0001_core.sql (UTC DATETIME(6), DECIMAL money and prices, ENUMs mirror
-- the Python enums of shared/trading/model.py and shared/enums.py). 0007 is another
-- branch's migration (pricing).
--
-- Exactly once: the service applies each event's deltas in one transaction per batch with
-- the event's trading_events row locked; a delta at or below its recorded version is a
-- replay and changes nothing. Bets and ledger entries also carry keys derived from the
-- delta that caused them (unique), a second guard. Balances move only with the ledger:
-- trading_strategies.balance = its deposit + every later entry's amount.

CREATE TABLE IF NOT EXISTS trading_strategies (
    name        VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    kind        ENUM('expected_value', 'kelly') NOT NULL,
    bankroll    DECIMAL(18,4) NOT NULL COMMENT 'the starting bankroll (deposited once)',
    balance     DECIMAL(18,4) NOT NULL COMMENT 'available: bankroll + settled P/L - open stakes',
    config      TEXT NOT NULL COMMENT 'the strategy as configured (JSON), last start of the service',
    created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) COMMENT 'UTC: first seen',
    updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
                COMMENT 'UTC: last change of this row',
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Paper-trading strategies and their balances';

CREATE TABLE IF NOT EXISTS trading_bets (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    bet_key           CHAR(64) CHARACTER SET ascii NOT NULL
                      COMMENT 'sha256 of strategy, event, delta version, market, outcome',
    strategy          VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    event_id          VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    sport             ENUM('football', 'basketball', 'tennis', 'ice_hockey') NOT NULL,
    market_key        VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
    outcome_id        VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    price_taken       DECIMAL(10,4) NOT NULL COMMENT 'decimal odds of the bet',
    stake             DECIMAL(18,4) NOT NULL,
    probability       DECIMAL(12,10) NOT NULL COMMENT 'the model probability (effective for lines)',
    expected_value    DECIMAL(14,8) NOT NULL COMMENT 'probability x price - 1 per unit staked',
    phase             ENUM('pre_match', 'in_play') NOT NULL,
    market_version    BIGINT UNSIGNED NOT NULL COMMENT 'the event version of the price taken',
    model_version     BIGINT UNSIGNED NOT NULL COMMENT 'the event version the model priced',
    model             VARCHAR(128) NOT NULL COMMENT 'the model (and its version) that priced it',
    message_id        VARCHAR(128) COLLATE utf8mb4_bin NOT NULL COMMENT 'the feed message of the price',
    placed_at         DATETIME(6) NOT NULL COMMENT 'UTC: provider time of the price taken',
    decided_at        DATETIME(6) NOT NULL COMMENT 'UTC: when the service placed it',
    status            ENUM('open', 'won', 'half_won', 'dead_heat', 'push', 'half_lost', 'lost',
                           'void') NOT NULL DEFAULT 'open',
    payout            DECIMAL(18,4) NULL COMMENT 'returned by its settlement; NULL while open',
    void_factor       DECIMAL(10,4) NULL COMMENT 'of the settlement in force',
    dead_heat_factor  DECIMAL(10,4) NULL,
    certainty         ENUM('live_scouted', 'confirmed') NULL,
    settled_at        DATETIME(6) NULL COMMENT 'UTC: when the platform applied its settlement',
    settled_by        VARCHAR(128) COLLATE utf8mb4_bin NULL COMMENT 'message_id of that settlement',
    closing_price     DECIMAL(10,4) NULL
                      COMMENT 'last price of the outcome before its market stopped (so far, until fixed)',
    closing_fixed     BOOLEAN NOT NULL DEFAULT FALSE COMMENT 'the market stopped: closing_price is final',
    updated_at        DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
                      COMMENT 'UTC: last change of this row',
    PRIMARY KEY (id),
    UNIQUE KEY trading_bets_key (bet_key),
    KEY trading_bets_event_market (event_id, market_key),
    KEY trading_bets_strategy_placed (strategy, placed_at, id),
    KEY trading_bets_status_placed (status, placed_at, id),
    KEY trading_bets_placed (placed_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Paper bets: what was taken, and how the feed settled it';

CREATE TABLE IF NOT EXISTS trading_ledger (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    entry_key   CHAR(64) CHARACTER SET ascii NOT NULL
                COMMENT 'sha256 of kind, bet, event, version of the delta that caused it',
    strategy    VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    kind        ENUM('deposit', 'stake', 'return', 'reversal') NOT NULL,
    amount      DECIMAL(18,4) NOT NULL COMMENT 'signed: stakes and reversals are negative',
    balance     DECIMAL(18,4) NOT NULL COMMENT 'the strategy balance after this entry',
    bet_key     CHAR(64) CHARACTER SET ascii NULL COMMENT 'the bet it belongs to (not a deposit)',
    event_id    VARCHAR(64) COLLATE utf8mb4_bin NULL,
    message_id  VARCHAR(128) COLLATE utf8mb4_bin NULL COMMENT 'the feed message that caused it',
    at          DATETIME(6) NOT NULL COMMENT 'UTC: when the platform applied its cause',
    recorded_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) COMMENT 'UTC: when it was written',
    PRIMARY KEY (id),
    UNIQUE KEY trading_ledger_key (entry_key),
    KEY trading_ledger_strategy (strategy, id),
    KEY trading_ledger_bet (bet_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='The bankroll ledger: deposits, stakes reserved, returns, reversals';

CREATE TABLE IF NOT EXISTS trading_events (
    event_id           VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    sport              ENUM('football', 'basketball', 'tennis', 'ice_hockey') NOT NULL,
    version            BIGINT UNSIGNED NOT NULL DEFAULT 0
                       COMMENT 'the last delta applied; a replay is at or below it',
    last_live_version  BIGINT UNSIGNED NOT NULL DEFAULT 0
                       COMMENT 'the last delta with a live state, fixture or status change',
    status             ENUM('not_started', 'live', 'suspended', 'interrupted', 'ended', 'closed',
                            'cancelled', 'delayed', 'postponed', 'abandoned') NULL,
    updated_at         DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                       ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'UTC: last change of this row',
    PRIMARY KEY (event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='How far trading has applied each event, and what model recency needs of it';
