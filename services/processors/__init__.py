"""Stream processors: one Faust app per sport on a common core.

``python -m services.processors <sport>`` (or ``python -m services.processors.<sport>``)
runs the worker of one sport; ``python -m services.processors.rebuild`` rebuilds the
Redis live state from MySQL. The layers, from pure to I/O:

- :mod:`.state`, :mod:`.rules` (and each sport's module), :mod:`.decide`,
  :mod:`.closing`, :mod:`.changes`: the event state and the decision for one message
  (no I/O, driven directly by the unit tests);
- :mod:`.plan`: a whole batch decided at once (duplicates, replays, versions) into the
  rows one MySQL transaction writes;
- :mod:`.storage` (with :mod:`.storage_read`, :mod:`.storage_write`, :mod:`.sqltext`):
  locks and loads the batch's events and writes the plan in one transaction;
  :mod:`shared.cache` and :mod:`.publisher` run after the commit;
- :mod:`.pipeline` ties them together per batch; :mod:`.app`, :mod:`.runtime` and
  :mod:`.worker` wire it into Faust. See ``docs/processors.md``.
"""
