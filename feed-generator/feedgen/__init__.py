"""SportsFeed's test feed generator: simulated matches, priced, posted, audited.

``python -m feedgen run | serve | audit``; see ``docs/feed-generator.md``.
"""
