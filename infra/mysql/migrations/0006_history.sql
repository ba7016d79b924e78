-- 0006 history: football-data.co.uk imports (services/history, docs/history.md).
-- Conventions: see 0001_core.sql (UTC DATETIME(6), DECIMAL prices, ENUMs mirror Python enums:
-- here those of shared/footballdata/model.py). 0005 is another branch's migration.
--
-- An imported match is an ordinary event (events, live_state, markets, outcomes,
-- settlements: provider 'football-data'); these tables hold what the feed model has no
-- place for, and the record of every import run.

-- One row per imported event: the season, the match as the file wrote it, its statistics
-- and where it was read. row_hash is the hash of everything read from the row: a re-import
-- whose hash is unchanged writes nothing.
CREATE TABLE IF NOT EXISTS history_matches (
    event_id                  VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    competition_id            VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    division                  VARCHAR(16) NOT NULL COMMENT 'football-data code: E0, SP1...',
    season                    VARCHAR(32) NOT NULL COMMENT 'July-June season of the file: 2022/23',
    match_date                DATE NOT NULL COMMENT 'the date as the file writes it (UK)',
    kickoff_known             BOOLEAN NOT NULL
                              COMMENT 'false: no Time in the file, the start is 00:00 UTC of the date',
    home_name                 VARCHAR(200) NOT NULL COMMENT 'the home team as the file names it',
    away_name                 VARCHAR(200) NOT NULL,
    referee                   VARCHAR(100) NULL,
    home_shots                SMALLINT UNSIGNED NULL,
    away_shots                SMALLINT UNSIGNED NULL,
    home_shots_on_target      SMALLINT UNSIGNED NULL,
    away_shots_on_target      SMALLINT UNSIGNED NULL,
    home_woodwork             SMALLINT UNSIGNED NULL,
    away_woodwork             SMALLINT UNSIGNED NULL,
    home_corners              SMALLINT UNSIGNED NULL,
    away_corners              SMALLINT UNSIGNED NULL,
    home_fouls                SMALLINT UNSIGNED NULL,
    away_fouls                SMALLINT UNSIGNED NULL,
    home_free_kicks_conceded  SMALLINT UNSIGNED NULL,
    away_free_kicks_conceded  SMALLINT UNSIGNED NULL,
    home_offsides             SMALLINT UNSIGNED NULL,
    away_offsides             SMALLINT UNSIGNED NULL,
    home_yellow_cards         SMALLINT UNSIGNED NULL,
    away_yellow_cards         SMALLINT UNSIGNED NULL,
    home_red_cards            SMALLINT UNSIGNED NULL,
    away_red_cards            SMALLINT UNSIGNED NULL,
    home_booking_points       SMALLINT UNSIGNED NULL,
    away_booking_points       SMALLINT UNSIGNED NULL,
    attendance                INT UNSIGNED NULL,
    bookmakers_1x2            SMALLINT UNSIGNED NULL COMMENT 'Bb1X2: bookmakers behind the Betbrain 1X2 max/avg',
    bookmakers_totals         SMALLINT UNSIGNED NULL COMMENT 'BbOU',
    bookmakers_handicap       SMALLINT UNSIGNED NULL COMMENT 'BbAH',
    source_file               VARCHAR(255) NOT NULL COMMENT 'file the row was read from when last written',
    source_line               INT UNSIGNED NOT NULL,
    row_hash                  CHAR(64) CHARACTER SET ascii NOT NULL COMMENT 'sha256 of the row as read',
    settlement_hash           CHAR(64) CHARACTER SET ascii NOT NULL
                              COMMENT 'sha256 of the settlements written: unchanged, they are not redone',
    run_id                    BIGINT UNSIGNED NOT NULL COMMENT 'the import run that last wrote the row',
    updated_at                DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                              ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'UTC: last change of this row',
    PRIMARY KEY (event_id),
    KEY history_matches_competition_season (competition_id, season, match_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='football-data match details of imported events';

-- Bookmaker prices: one row per event, bookmaker, market and phase, a price column per
-- outcome of the market (1x2: home, draw, away; totals: over, under; handicap: home, away;
-- the others NULL). A row per outcome was measured 2.5 times slower to write (400,000 rows
-- for the 20 shared files against 155,000), which the import's time budget cannot afford.
CREATE TABLE IF NOT EXISTS history_odds (
    event_id     VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    bookmaker    VARCHAR(32) COLLATE utf8mb4_bin NOT NULL
                 COMMENT 'bet365, pinnacle, market_avg... (shared/footballdata/bookmakers.py) or a new code',
    market_key   VARCHAR(200) COLLATE utf8mb4_bin NOT NULL
                 COMMENT '1x2, totals|total=2.5, handicap|hcp=-0.75 (the home handicap)',
    phase        ENUM('opening', 'closing') NOT NULL,
    price_home   DECIMAL(10,4) NULL,
    price_draw   DECIMAL(10,4) NULL,
    price_away   DECIMAL(10,4) NULL,
    price_over   DECIMAL(10,4) NULL,
    price_under  DECIMAL(10,4) NULL,
    -- No secondary index: each one measured 30-50% slower imports, and every query served
    -- (an event's odds, counts by bookmaker) is by event or a scan of a few 100,000 rows.
    PRIMARY KEY (event_id, bookmaker, market_key, phase)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Every bookmaker price of every imported match';

CREATE TABLE IF NOT EXISTS history_runs (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    file_name         VARCHAR(255) NOT NULL,
    file_path         VARCHAR(1000) NOT NULL,
    sha256            CHAR(64) CHARACTER SET ascii NOT NULL,
    size_bytes        INT UNSIGNED NOT NULL,
    divisions         VARCHAR(200) NULL COMMENT 'division codes of the file, comma-separated',
    season            VARCHAR(32) NULL,
    data_rows         INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'rows with any data (blank rows apart)',
    blank_rows        INT UNSIGNED NOT NULL DEFAULT 0,
    events_inserted   INT UNSIGNED NOT NULL DEFAULT 0,
    events_updated    INT UNSIGNED NOT NULL DEFAULT 0,
    events_unchanged  INT UNSIGNED NOT NULL DEFAULT 0,
    rows_skipped      INT UNSIGNED NOT NULL DEFAULT 0,
    values_ignored    INT UNSIGNED NOT NULL DEFAULT 0,
    odds_quotes       INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'prices read (one per bookmaker, market, outcome, phase)',
    odds_rows_written INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'history_odds rows written by this run',
    unknown_columns   SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    new_bookmakers    VARCHAR(500) NULL COMMENT 'codes imported under their own name, comma-separated',
    new_teams         VARCHAR(2000) NULL COMMENT 'team names not in the club table, comma-separated',
    outcome           ENUM('ok', 'partial', 'failed') NOT NULL,
    error             VARCHAR(1000) NULL COMMENT 'why a failed run failed',
    started_at        DATETIME(6) NOT NULL COMMENT 'UTC',
    finished_at       DATETIME(6) NOT NULL COMMENT 'UTC',
    duration_ms       INT UNSIGNED NOT NULL,
    PRIMARY KEY (id),
    KEY history_runs_started (started_at),
    KEY history_runs_sha256 (sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='One row per imported file per run';

CREATE TABLE IF NOT EXISTS history_run_problems (
    run_id       BIGINT UNSIGNED NOT NULL,
    seq          INT UNSIGNED NOT NULL COMMENT 'order within the run',
    line         INT UNSIGNED NULL COMMENT 'line of the file (1 is the header)',
    column_name  VARCHAR(64) NULL,
    reason       VARCHAR(500) NOT NULL,
    action       ENUM('row_skipped', 'value_ignored') NOT NULL,
    PRIMARY KEY (run_id, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Rows skipped and values ignored by an import run, with file line and column';

CREATE TABLE IF NOT EXISTS history_run_columns (
    run_id       BIGINT UNSIGNED NOT NULL,
    position     SMALLINT UNSIGNED NOT NULL COMMENT '0-based column of the header',
    column_name  VARCHAR(64) NOT NULL,
    status       ENUM('unknown', 'new_bookmaker') NOT NULL,
    detail       VARCHAR(300) NOT NULL,
    PRIMARY KEY (run_id, position)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Columns an import run ignored (unknown) or imported under a new bookmaker code';
