"""The pricing service (``python -m services.pricing``): the platform's own fair prices.

Commands, one module each, imported only when run: ``fit`` (fit each sport's model on
the finished events in MySQL and store it, :mod:`services.pricing.fit`), ``evaluate``
(walk-forward evaluation on football-data files against the bookmakers,
:mod:`services.pricing.evaluate`) and ``run`` (the live service,
:mod:`services.pricing.service`: it reads the updates topics, keeps each event's
snapshot, and publishes a :class:`shared.fair.ModelPrices` pre-match and after every
change that moves the model, to ``sportsfeed.<sport>.model`` and Redis). The maths is
``shared.pricing``'s; see ``docs/pricing.md``.

The live service's layers: ``domain/`` (pure: models, fitting, lines, quotes, the event
book), ``storage/`` (MySQL: results and stored models), ``runtime/`` (Faust app, Kafka,
Redis, metrics).
"""
