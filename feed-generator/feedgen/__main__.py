"""``python -m feedgen run | serve | audit``: the feed generator's command line.

``run`` simulates matches and posts them to ingestion (progress on stderr, summary at
the end); ``serve`` runs the control API on 127.0.0.1:4004; ``audit`` reconciles a
run's record with the platform's ledger. Settings come from ``SPORTSFEED_FEEDGEN_*``
(the API key: ``SPORTSFEED_FEEDGEN_API_KEY``) and MySQL's from ``SPORTSFEED_MYSQL_*``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from feedgen.faults import __doc__ as FAULTS_HELP
from feedgen.settings import FeedgenSettings, RunOptions
from shared.runtime import quiet_repeated_logs


def _default(name: str) -> str:
    """A run option's default as help text shows it (from :class:`RunOptions`)."""
    return str(RunOptions.model_fields[name].get_default(call_default_factory=True))


def _run_parser(sub: Any) -> None:
    # Every flag left out falls back on the settings, then on RunOptions' defaults
    # (FeedgenSettings.run_options): the defaults live there alone.
    p = sub.add_parser("run", help="simulate matches and post them to ingestion",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=FAULTS_HELP, argument_default=argparse.SUPPRESS)
    for flag, kind, text in (
        ("matches", int, "matches played at once (slots)"),
        ("rate", float, "target messages per second"),
        ("duration", float, "seconds to run"),
        ("margin", float, "bookmaker margin (0.05 = 5%%)"),
        ("batch_size", int, "messages per JSON/XML request"),
        ("heartbeat", float, "seconds between alive messages"),
        ("workers", int, "concurrent senders per format"),
        ("linger", float, "seconds a sender waits to fill a batch"),
        ("max_retries", int, "tries of a request after its first"),
        ("drain", float, "seconds after --duration to finish sending what is queued"),
    ):
        p.add_argument(f"--{flag.replace('_', '-')}", dest=flag, type=kind,
                       help=f"{text} (default {_default(flag)})")
    p.add_argument("--formats", help="json,xml,uof (equal shares, the default) or "
                   "json=0.6,xml=0.2,uof=0.2")
    p.add_argument("--sports", help="sports and shares, like --formats (default: all four)")
    p.add_argument("--faults", help="e.g. dup=0.01,reorder=0.01,malformed=0.005 (default none)")
    p.add_argument("--seed", type=int, help="run seed (default: random, printed)")
    p.add_argument("--speed", type=float,
                   help="simulated seconds per second (default: what reaches --rate)")
    p.add_argument("--url", help="ingestion base URL (default $SPORTSFEED_FEEDGEN_URL, "
                   f"{FeedgenSettings.model_fields['url'].default})")
    p.add_argument("--api-key", dest="api_key",
                   help="bearer key (default $SPORTSFEED_FEEDGEN_API_KEY)")
    p.add_argument("--data-dir", dest="data_dir", type=Path,
                   help="where run records go (default $SPORTSFEED_FEEDGEN_DATA_DIR, "
                   f"{FeedgenSettings.model_fields['data_dir'].default})")
    p.add_argument("--run-id", dest="run_id", help="name of the run's record directory")


def _options(args: argparse.Namespace, settings: FeedgenSettings) -> RunOptions:
    given = {k: v for k, v in vars(args).items() if k != "command"}
    return settings.run_options(given)


async def _run(opts: RunOptions) -> int:
    from feedgen.runner import execute, format_summary, prepare

    run = prepare(opts)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, run.stop.set)
    print(f"feedgen: run {run.run_id}, seed {run.seed}, {opts.matches} matches, "
          f"rate {opts.rate:g}/s for {opts.duration:g} s -> {opts.url}", file=sys.stderr)
    try:
        await execute(run)
    except Exception:
        print(format_summary(run), file=sys.stderr)
        return 1
    print(format_summary(run), file=sys.stderr)
    return 130 if run.state == "stopped" else 0


async def _serve(settings: FeedgenSettings) -> int:
    from aiohttp import web

    from feedgen.control import create_app

    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, settings.control_host, settings.control_port)
    await site.start()
    print(f"feedgen control API on http://{settings.control_host}:{settings.control_port}",
          file=sys.stderr)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()  # stops a run in progress (cleanup context)
    return 0


async def _audit(args: argparse.Namespace, settings: FeedgenSettings) -> int:
    from feedgen.audit import format_report
    from feedgen.ledger import audit_run
    from feedgen.record import read_records, resolve_run
    from shared.settings import MySQLSettings

    try:
        run_dir = resolve_run(args.data_dir or settings.data_dir, args.run)
    except FileNotFoundError as exc:
        print(f"feedgen audit: {exc}", file=sys.stderr)
        return 2
    try:
        mysql = MySQLSettings()  # the password comes from the environment
    except ValidationError as exc:
        print(f"feedgen audit: MySQL settings: {exc.errors()[0]['msg']} "
              "(set SPORTSFEED_MYSQL_PASSWORD and friends)", file=sys.stderr)
        return 2
    records = list(read_records(run_dir))
    report = await audit_run(records, mysql, wait=args.wait)
    print(f"run {run_dir.name}: {len(records)} sends, database {mysql.database}")
    print(format_report(report, limit=args.limit))
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m feedgen``."""
    parser = argparse.ArgumentParser(prog="python -m feedgen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _run_parser(sub)
    sub.add_parser("serve", help="control API (POST /start, /stop; GET /status, /metrics)")
    audit = sub.add_parser("audit", help="reconcile a run's record with the platform's ledger")
    audit.add_argument("--run", default="latest", help="run id or 'latest'")
    audit.add_argument("--wait", type=float, default=30.0,
                       help="seconds to wait for the ledger to catch up")
    audit.add_argument("--data-dir", type=Path, help="where run records are (.data/feedgen)")
    audit.add_argument("--limit", type=int, default=50, help="findings to print at most")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_repeated_logs()
    settings = FeedgenSettings()
    if args.command == "serve":
        return asyncio.run(_serve(settings))
    if args.command == "audit":
        return asyncio.run(_audit(args, settings))
    try:
        opts = _options(args, settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"feedgen run: {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return 2
    if opts.api_key is None:
        print("feedgen run: no API key (set SPORTSFEED_FEEDGEN_API_KEY or pass --api-key)",
              file=sys.stderr)
        return 2
    return asyncio.run(_run(opts))


if __name__ == "__main__":
    sys.exit(main())
