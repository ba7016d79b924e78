"""The Python client of SportsFeed's WebSocket push (``docs/websocket.md``, "Python client").

``FeedClient(url, token=...).follow(sports=..., markets=..., event_ids=..., model=...)``
is an async iterator of :class:`Update`: applied event states, kept by version across
reconnects. :class:`EventBook` is its pure core (snapshots and deltas by version).
"""

from sportsfeed_client.book import Applied, EventBook
from sportsfeed_client.client import AuthError, ClientStats, FeedClient, SubscriptionError, Update

__all__ = ["Applied", "AuthError", "ClientStats", "EventBook", "FeedClient", "SubscriptionError",
           "Update"]
