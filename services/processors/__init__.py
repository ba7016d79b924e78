"""Stream processors: one Faust app per sport on a common core.

``python -m services.processors <sport>`` runs the worker of one sport;
``python -m services.processors.rebuild`` rebuilds the Redis live state from MySQL.
The layers, each a package (see ``docs/processors.md``):

- :mod:`.domain`: pure — the event state, each sport's stateful rules, the decision for
  one message and the plan of a whole batch (no I/O; driven directly by unit tests);
- :mod:`.storage`: MySQL — one transaction per batch (lock, load, plan, write);
- :mod:`.runtime`: the wiring — the batch pipeline (retries, after-commit Redis and
  updates), the Faust app and worker, the pools, the publisher and the metrics.
"""
