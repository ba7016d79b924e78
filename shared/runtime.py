"""Process start-up shared by the services (aiohttp, websockets and the Faust workers)."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


def install_uvloop() -> bool:
    """Use uvloop's event loop when it is installed; plain asyncio works, only slower."""
    try:
        import uvloop
    except ImportError:
        log.info("event loop: asyncio")
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    log.info("event loop: uvloop")
    return True
