"""Paper trading, what two services share: the bet vocabulary and the performance maths.

The trading service (``services/trading``) writes bets and the bankroll ledger; the
distribution service reads them for ``/v1/trading/*`` and the page. Both compute a
strategy's figures with :mod:`shared.trading.performance`, so the REST answer and the
backtest report mean the same thing by "yield" or "closing line value".
"""
