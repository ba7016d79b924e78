"""The REST API and the trading page (aiohttp)."""
