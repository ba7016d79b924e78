"""MySQL: the strategies, bets, ledger and per-event progress of the trading service."""
