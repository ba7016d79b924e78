"""``python -m services.ingestion``: serve the ingestion API on :4000 until SIGTERM.

With ``SPORTSFEED_INGESTION_WORKERS`` (default: half the cores, at least one) above 1 this process is
the supervisor of that many worker processes on the same port
(:mod:`services.ingestion.supervisor`); with 1 it serves alone
(:mod:`services.ingestion.server`). SIGTERM (or SIGINT) stops intake: new requests get
503 and the listening sockets close; in-flight requests finish (up to
``shutdown_grace_s``); the producers are flushed and stopped; the process exits 0. A
configuration error (no API keys, say) exits 2 with the reason on stderr.

``--worker`` is how the supervisor starts a worker of its group; it is not for people.
"""

from __future__ import annotations

import signal
import sys


def _stop_before_serving(signum: int, _: object) -> None:
    raise SystemExit(0)


# A worker the supervisor stops while it is still starting (a group stopped right after
# the first worker answered) has nothing in flight: it exits 0 like a drained one, rather
# than dying of the signal (the supervisor then reported the whole group as failed).
# Installed before the imports below, which take most of a worker's start-up; serve()
# replaces it with the draining handler.
if sys.argv[1:] == ["--worker"]:
    signal.signal(signal.SIGTERM, _stop_before_serving)

import asyncio  # noqa: E402
import logging  # noqa: E402

from pydantic import ValidationError  # noqa: E402

from services.ingestion.auth import load_api_keys  # noqa: E402
from services.ingestion.errors import ConfigError  # noqa: E402
from services.ingestion.settings import IngestionSettings  # noqa: E402
from shared.runtime import install_uvloop, quiet_repeated_logs  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Entry point: build the settings once, run, exit 0 after a clean shutdown."""
    args = sys.argv[1:] if argv is None else argv
    worker = args == ["--worker"]
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_repeated_logs()
    try:
        settings = IngestionSettings()
        # Fail before binding the port if the keys are missing or invalid.
        load_api_keys(settings)
        if not worker and settings.worker_count > 1 and settings.port == 0:
            raise ConfigError("a group of workers needs a fixed SPORTSFEED_INGESTION_PORT")
    except (ConfigError, ValidationError) as exc:
        print(f"ingestion: configuration error: {exc}", file=sys.stderr)
        return 2
    if not worker and settings.worker_count > 1:
        # Imported here: the supervisor must not load prometheus_client before it has
        # set the multiprocess directory its workers inherit.
        from services.ingestion.supervisor import supervise

        return supervise(settings)
    install_uvloop()
    from services.ingestion.server import serve

    asyncio.run(serve(settings, group=worker))
    return 0


if __name__ == "__main__":
    sys.exit(main())
