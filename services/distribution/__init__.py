"""Distribution: REST :4002, WebSocket push :4003 and the trading page.

``python -m services.distribution`` runs all three in one process
(:mod:`.service`). The layers, from pure to I/O:

- :mod:`.ws.frames`, :mod:`.ws.merge`, :mod:`.ws.ring`, :mod:`.ws.outbox`,
  :mod:`.ws.subscriptions`, :mod:`.ws.protocol`, :mod:`.ws.stats`: encoding,
  conflation, retention and per-event groups, per-client queues, filters, client
  messages and counters (no I/O, unit tested directly);
- :mod:`.ws.client` and :mod:`.ws.hub`: per-client sessions and the fan-out of
  deltas to them; :mod:`.ws.fanout` feeds the hub from the updates topics;
- :mod:`.ws.server`: the websockets server; :mod:`.rest`: the aiohttp app;
- :mod:`.snapshots`: live state from Redis (``shared.cache``) with MySQL behind it.

The wire protocol is written down in ``docs/websocket.md``, the REST API in
``docs/rest.md`` and ``/openapi.json``.
"""
