-- 0001 core: what is played, by whom, and the live state of each event.
--
-- Conventions for every SportsFeed migration:
--   * InnoDB, utf8mb4; names sort with utf8mb4_unicode_ci (exists on MariaDB 10.11 and
--     MySQL 8). Identifiers (event, competitor, market, outcome, message ids) use
--     utf8mb4_bin: ids are case-sensitive, and a case-insensitive key would merge two ids.
--   * Every DATETIME(6) holds UTC. Connections run with time_zone '+00:00' (see
--     shared/storage/pool.py), so CURRENT_TIMESTAMP defaults are UTC as well.
--   * Prices and factors are DECIMAL, never FLOAT.
--   * ENUM values mirror shared/enums.py in the same order (tests/unit/test_migrations_unit.py
--     compares them); a new value is appended at the end, which both servers do in place.
--   * Statements are re-runnable (IF NOT EXISTS): DDL auto-commits, so a migration that
--     failed half-way is fixed and run again.
--   * No foreign keys: processors keep references consistent inside their one transaction,
--     and FKs would force an order on messages (odds before fixture) and on rebuilds.

CREATE TABLE IF NOT EXISTS competitions (
    id          VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    sport       ENUM('football', 'basketball', 'tennis', 'ice_hockey') NOT NULL,
    name        VARCHAR(200) NOT NULL,
    country     VARCHAR(64) NULL,
    season      VARCHAR(32) NULL,
    updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
                COMMENT 'UTC: last change of this row',
    PRIMARY KEY (id),
    KEY competitions_sport_name (sport, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Leagues, cups and tournaments';

CREATE TABLE IF NOT EXISTS competitors (
    id          VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    name        VARCHAR(200) NOT NULL,
    updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
                COMMENT 'UTC: last change of this row',
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Teams and players';

-- An events row exists once a complete fixture was applied; it carries the per-event
-- version and the staleness watermark, so processors lock it (SELECT ... FOR UPDATE)
-- first in every transaction that changes the event.
CREATE TABLE IF NOT EXISTS events (
    id                VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    sport             ENUM('football', 'basketball', 'tennis', 'ice_hockey') NOT NULL,
    competition_id    VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    home_id           VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    away_id           VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    start_time        DATETIME(6) NOT NULL COMMENT 'UTC: scheduled start',
    status            ENUM('not_started', 'live', 'suspended', 'interrupted', 'ended', 'closed',
                           'cancelled', 'delayed', 'postponed', 'abandoned')
                      NOT NULL DEFAULT 'not_started',
    best_of           TINYINT UNSIGNED NULL COMMENT 'tennis: sets in the match (3 or 5)',
    provider          VARCHAR(32) NOT NULL,
    last_provider_ts  DATETIME(6) NOT NULL
                      COMMENT 'UTC: newest provider_ts applied to this event; older is stale',
    version           BIGINT UNSIGNED NOT NULL DEFAULT 0
                      COMMENT 'rises by one per applied change; clients resume from it',
    created_at        DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                      COMMENT 'UTC: first applied fixture',
    updated_at        DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                      ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'UTC: last change of this row',
    PRIMARY KEY (id),
    KEY events_sport_status_start (sport, status, start_time),
    KEY events_competition_start (competition_id, start_time),
    KEY events_start (start_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Sport events (matches); version and last_provider_ts drive ordering';

-- JSON is kept as checked TEXT: MySQL 8 stores a JSON column in a binary form that
-- reorders keys, MariaDB stores it as text; TEXT reads back the same bytes on both.
CREATE TABLE IF NOT EXISTS live_state (
    event_id          VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    status            ENUM('not_started', 'live', 'suspended', 'interrupted', 'ended', 'closed',
                           'cancelled', 'delayed', 'postponed', 'abandoned') NOT NULL,
    period            VARCHAR(16) NULL,
    clock_seconds     INT UNSIGNED NULL,
    clock_running     BOOLEAN NULL,
    stoppage_seconds  INT UNSIGNED NULL,
    home_score        SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    away_score        SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    periods           TEXT NOT NULL COMMENT 'JSON array of PeriodScore, in play order',
    game              TEXT NULL COMMENT 'JSON GamePoints (tennis points in the current game)',
    server            ENUM('home', 'away') NULL COMMENT 'tennis: who serves',
    provider_ts       DATETIME(6) NOT NULL COMMENT 'UTC: provider time of the applied state',
    updated_at        DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                      ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'UTC: last change of this row',
    PRIMARY KEY (event_id),
    CONSTRAINT live_state_periods_json CHECK (JSON_VALID(periods)),
    CONSTRAINT live_state_game_json CHECK (JSON_VALID(game))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Current live score per event (Redis caches it)';
