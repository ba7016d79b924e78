-- 0005 settlement flows as UOF sends them.
-- Conventions: see 0001_core.sql (UTC DATETIME(6), ENUMs mirror shared/enums.py).
--
-- * A market's trading status ("settled": no more odds) and what is in force about its
--   bets (results live-scouted or confirmed, or void) are two facts that arrive apart and
--   in either order: markets.resolution keeps the second.
-- * Later results of a market replace the earlier ones (a confirmation, or a correction):
--   the earlier rows stay, marked superseded. Rows in force have neither rolled_back_at
--   nor superseded_at.
-- * One message names many markets; a market that cannot be applied is refused alone,
--   one ledger_refusals row each, and the rest of the message applies.
--
-- ALTER TABLE ... ADD COLUMN is re-runnable: shared.storage.migrate skips a column (or
-- index) that already exists, on MariaDB and MySQL alike (MySQL 8 has no IF NOT EXISTS).

ALTER TABLE markets ADD COLUMN resolution ENUM('live_scouted', 'confirmed', 'void') NULL
    COMMENT 'in force about its bets: results (live scouted / confirmed) or void; NULL: none'
    AFTER status;

ALTER TABLE markets ADD COLUMN status_before_final
    ENUM('active', 'suspended', 'deactivated', 'settled', 'cancelled', 'handed_over') NULL
    COMMENT 'the status a rollback restores (set while settled or cancelled)'
    AFTER resolution;

ALTER TABLE settlements ADD COLUMN superseded_at DATETIME(6) NULL
    COMMENT 'UTC: when later results of the market replaced this row; NULL: not replaced';

ALTER TABLE settlements ADD COLUMN superseded_by VARCHAR(128) COLLATE utf8mb4_bin NULL
    COMMENT 'message_id of the settlement that replaced it';

ALTER TABLE cancellations ADD COLUMN superseded_at DATETIME(6) NULL
    COMMENT 'UTC: when a later cancellation of the market replaced this row';

ALTER TABLE cancellations ADD COLUMN superseded_by VARCHAR(128) COLLATE utf8mb4_bin NULL
    COMMENT 'message_id of the cancellation that replaced it';

-- Markets closed before this migration: their resolution from the rows in force.
UPDATE markets m
  JOIN (SELECT event_id, market_key, MAX(certainty = 'confirmed') AS confirmed
          FROM settlements WHERE rolled_back_at IS NULL GROUP BY event_id, market_key) s
    ON s.event_id = m.event_id AND s.market_key = m.market_key
   SET m.resolution = IF(s.confirmed, 'confirmed', 'live_scouted')
 WHERE m.status = 'settled' AND m.resolution IS NULL;

UPDATE markets m
  JOIN (SELECT DISTINCT event_id, market_key FROM cancellations WHERE rolled_back_at IS NULL) c
    ON c.event_id = m.event_id AND c.market_key = m.market_key
   SET m.resolution = 'void'
 WHERE m.status = 'cancelled' AND m.resolution IS NULL;

-- The markets of a message that were not applied while the rest of it was (or, when
-- every market was refused, the markets behind the message's rejection).
CREATE TABLE IF NOT EXISTS ledger_refusals (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    message_id    VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    sport         ENUM('football', 'basketball', 'tennis', 'ice_hockey') NOT NULL,
    event_id      VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    market_key    VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
    reason        VARCHAR(1000) NOT NULL,
    processed_at  DATETIME(6) NOT NULL COMMENT 'UTC: when the processor decided',
    PRIMARY KEY (id),
    UNIQUE KEY ledger_refusals_message_market (message_id, market_key),
    KEY ledger_refusals_event (event_id),
    KEY ledger_refusals_processed (sport, processed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Markets of a message refused one by one (the message itself is in the ledger)';
