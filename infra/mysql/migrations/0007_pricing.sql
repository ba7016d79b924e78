-- 0007 pricing: the fitted models the pricing service prices with (services/pricing,
-- docs/pricing.md). Conventions: see 0001_core.sql. 0008 is the trading branch's.
--
-- One row per fit; the service prices each sport with its newest row (highest id) and
-- names it in every ModelPrices it publishes as '<sport>:<kind>:<id>'. Rows are never
-- updated: an older model stays, to say what a price published earlier was made with.
CREATE TABLE IF NOT EXISTS pricing_models (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    sport           ENUM('football', 'basketball', 'tennis', 'ice_hockey') NOT NULL,
    kind            VARCHAR(32) NOT NULL
                    COMMENT 'dixon_coles, poisson (football), poisson_ratings (ice hockey), normal_ratings (basketball), serve_ratings (tennis)',
    params          MEDIUMTEXT NOT NULL COMMENT 'JSON: the fitted parameters (ratings by competitor id)',
    training_from   DATETIME(6) NOT NULL COMMENT 'UTC: start time of the oldest training match',
    training_to     DATETIME(6) NOT NULL COMMENT 'UTC: start time of the newest training match',
    training_size   INT UNSIGNED NOT NULL COMMENT 'matches fitted on',
    teams           INT UNSIGNED NOT NULL COMMENT 'sides (teams or players) with a rating',
    metrics         TEXT NOT NULL COMMENT 'JSON: log-likelihood, in-sample log-loss against base rates, fit time',
    sources         TEXT NOT NULL COMMENT 'JSON: training matches by provider and by competition, window, decay',
    created_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) COMMENT 'UTC: when the model was stored',
    PRIMARY KEY (id),
    KEY pricing_models_sport (sport, id),
    CONSTRAINT pricing_models_params_json CHECK (JSON_VALID(params)),
    CONSTRAINT pricing_models_metrics_json CHECK (JSON_VALID(metrics)),
    CONSTRAINT pricing_models_sources_json CHECK (JSON_VALID(sources))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Fitted pricing models, newest per sport in use';
