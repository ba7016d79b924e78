"""WebSocket push: subscriptions, snapshots, ordered deltas, resume, conflation."""
