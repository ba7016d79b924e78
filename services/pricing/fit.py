"""``python -m services.pricing fit --sport S`` (or ``--all``): fit on MySQL's results, store.

For each sport asked for: read its finished events (imported history and the feed's
recorded matches), fit the sport's model (``services.pricing.domain.training``), store
it in ``pricing_models`` and print what it is. The service picks the newest model up
within ``SPORTSFEED_PRICING_MODEL_POLL_S``.

- ``--if-missing``: only sports that have no stored model yet (``make up`` runs this);
- ``--if-new N``: only sports with no model, or with N or more finished events that
  started after their model's newest training match (the service's periodic refit);
- ``--dry-run``: fit and print, store nothing; ``--json``: the results as JSON.

A sport with fewer usable results than ``SPORTSFEED_PRICING_FIT_MIN_MATCHES`` is left
to the prior (the league's averages). Two fits of one sport never run at once (a named
lock): the second says so and skips. Exit status: 0, or 1 when a fit failed, 2 on a
configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

import aiomysql
import orjson
from pydantic import ValidationError

from services.pricing.domain.training import FitResult, fit_sport, usable
from services.pricing.settings import PricingSettings
from services.pricing.storage.models import (
    lock_name,
    newest_model,
    store_model,
    try_lock,
    unlock,
)
from services.pricing.storage.results import count_finished, load_finished
from shared.enums import Sport
from shared.storage.pool import connect_kwargs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a fit command did for one sport."""

    sport: Sport
    action: str  # stored | fitted (dry run) | skipped | failed
    detail: str
    model: str | None = None
    result: FitResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FitOptions:
    """The command's choices."""

    sports: tuple[Sport, ...]
    if_missing: bool = False
    if_new: int | None = None
    dry_run: bool = False


async def fit_one(cur: Any, settings: PricingSettings, sport: Sport, opts: FitOptions) -> Outcome:
    """Fit one sport (the caller holds its lock)."""
    newest = await newest_model(cur, sport)
    if newest is not None and opts.if_missing:
        return Outcome(sport, "skipped", f"has {newest.version}", newest.version)
    if newest is not None and opts.if_new is not None:
        new = await count_finished(cur, sport, after=newest.training_to)
        if new < opts.if_new:
            return Outcome(sport, "skipped", f"{new} new results since {newest.version}"
                           f" (refit at {opts.if_new})", newest.version)
    matches = await load_finished(cur, sport)
    found = len(usable(sport, matches))
    if found < settings.fit_min_matches:
        return Outcome(sport, "skipped", f"{found} usable results, fewer than "
                       f"{settings.fit_min_matches}: the prior prices it")
    result = await asyncio.to_thread(fit_sport, sport, matches,
                                     window_days=settings.fit_window_days, xi=settings.fit_xi)
    if opts.dry_run:
        return Outcome(sport, "fitted", describe(result), result=result)
    model_id = await store_model(cur, result)
    version = f"{sport.value}:{result.fitted.kind}:{model_id}"
    return Outcome(sport, "stored", describe(result), version, result)


def describe(result: FitResult) -> str:
    """One line about a fit."""
    m = result.metrics
    scores = ""
    if "logloss" in m:
        scores = (f"; {m['market']} log-loss {m['logloss']:.4f} in sample (base rates "
                  f"{m['base_logloss']:.4f}, {m['evaluated']:,} matches)")
    return (f"{result.training_size:,} matches {result.training_from:%Y-%m-%d} → "
            f"{result.training_to:%Y-%m-%d}, {result.teams:,} sides{scores}; fit "
            f"{m.get('fit_cpu_s', 0):.2f} s CPU")


async def run_fits(settings: PricingSettings, opts: FitOptions) -> list[Outcome]:
    """Fit every sport of ``opts`` on one connection, each under its lock."""
    kwargs = connect_kwargs(settings.mysql)
    kwargs["autocommit"] = True  # reads see fresh data; the insert is one statement
    conn = await aiomysql.connect(**kwargs)
    outcomes = []
    try:
        async with conn.cursor() as cur:
            for sport in opts.sports:
                name = lock_name(settings.mysql.database, sport)
                if not await try_lock(cur, name):
                    outcomes.append(Outcome(sport, "skipped", "another fit of it is running"))
                    continue
                try:
                    outcomes.append(await fit_one(cur, settings, sport, opts))
                except Exception as exc:  # one sport's failure is reported, the others go on
                    log.exception("fitting %s failed", sport.value)
                    outcomes.append(Outcome(sport, "failed", repr(exc)[:300]))
                finally:
                    await unlock(cur, name)
    finally:
        conn.close()
    return outcomes


def as_json(outcomes: list[Outcome]) -> bytes:
    """The outcomes for tools."""
    out = []
    for o in outcomes:
        item: dict[str, Any] = {"sport": o.sport.value, "action": o.action, "detail": o.detail,
                                "model": o.model}
        if o.result is not None:
            r = o.result
            item |= {"kind": r.fitted.kind, "training_from": r.training_from.isoformat(),
                     "training_to": r.training_to.isoformat(), "training_size": r.training_size,
                     "teams": r.teams, "metrics": r.metrics, "sources": r.sources}
        out.append(item)
    return orjson.dumps(out, option=orjson.OPT_INDENT_2)


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m services.pricing fit",
                                     description="Fit pricing models on MySQL's results.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--sport", action="append", choices=[s.value for s in Sport],
                       help="a sport to fit (repeatable)")
    which.add_argument("--all", action="store_true", help="every sport")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--if-missing", action="store_true", help="only sports with no model")
    when.add_argument("--if-new", type=int, metavar="N",
                      help="only sports with no model or N+ results newer than it")
    parser.add_argument("--dry-run", action="store_true", help="fit and print, store nothing")
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; the exit status."""
    args = parse(argv)
    try:
        settings = PricingSettings()
    except ValidationError as exc:
        print(f"pricing fit: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sports = tuple(Sport) if args.all else tuple(Sport(s) for s in dict.fromkeys(args.sport))
    opts = FitOptions(sports, args.if_missing, args.if_new, args.dry_run)
    outcomes = asyncio.run(run_fits(settings, opts))
    if args.json:
        sys.stdout.write(as_json(outcomes).decode() + "\n")
    else:
        for o in outcomes:
            model = f" {o.model}" if o.model and o.action == "stored" else ""
            print(f"{o.sport.value}: {o.action}{model}: {o.detail}")
    return 1 if any(o.action == "failed" for o in outcomes) else 0
