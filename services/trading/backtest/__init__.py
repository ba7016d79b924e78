"""Backtests on football-data files: walk-forward model probabilities, bookmaker prices."""
