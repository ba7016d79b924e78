"""Paper trading: strategies on the live feed, bets and bankroll in MySQL, backtests on real odds.

``domain/`` is pure (strategies, staking, settlement maths, model-price recency, the
engine that turns deltas into bets and ledger entries), ``storage/`` is MySQL,
``runtime/`` the Faust app on the updates and model topics, ``backtest/`` the
football-data backtest. ``docs/trading.md`` describes it.
"""
