"""The pricing service (``python -m services.pricing``): the platform's own fair prices.

Commands, one module each, imported only when run: ``fit`` (fit models on the history
in MySQL, :mod:`services.pricing.fit`), ``evaluate`` (walk-forward evaluation on
football-data files against the bookmakers, :mod:`services.pricing.evaluate`) and
``run`` (the live service, :mod:`services.pricing.service`). The maths is
``shared.pricing``'s.
"""
