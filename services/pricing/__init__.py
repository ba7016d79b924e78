"""The pricing service: models fitted on the platform's results, live fair prices of every event.

``python -m services.pricing fit`` fits each sport's model on MySQL's finished events and
stores it; ``python -m services.pricing run`` reads the updates topics, keeps each
event's snapshot, and publishes a :class:`shared.fair.ModelPrices` pre-match and after
every change that moves the model, to ``sportsfeed.<sport>.model`` and Redis. See
``docs/pricing.md``.

Layers: ``domain/`` (pure: models, fitting, lines, quotes, the event book), ``storage/``
(MySQL: results and stored models), ``runtime/`` (Faust app, Kafka, Redis, metrics).
"""
