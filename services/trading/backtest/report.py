"""The backtest's figures: a dict for ``--json``, a text summary, and the P/L chart (PNG)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from services.trading.backtest.engine import BacktestResult, by_market


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _ratio(value: float | None, places: int = 4) -> float | None:
    return round(value, places) if value is not None else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def figures(result: BacktestResult, **context: Any) -> dict[str, Any]:
    """Every figure of the run (money as exact decimal strings, ratios as numbers)."""
    perf = result.performance()
    staked = sum((b.stake for b in result.bets), Decimal(0))
    returned = sum((b.payout for b in result.bets), Decimal(0))
    clvs = [v for b in result.bets if (v := b.clv) is not None]
    closing_evs = [v for b in result.bets if (v := b.closing_ev) is not None]
    return {
        **context,
        "strategy": result.strategy.name, "kind": result.strategy.kind.value,
        "bookmaker": result.bookmaker, "model": result.model,
        "matches": result.matches, "matches_priced": result.priced, "bets": len(result.bets),
        "staked": _money(staked), "returned": _money(returned), "profit": _money(returned - staked),
        "bankroll": _money(result.bankroll), "final_bankroll": _money(result.final_bankroll),
        "roi": _ratio(perf.roi), "yield": _ratio(perf.yield_), "hit_rate": _ratio(perf.hit_rate),
        "max_drawdown": _money(perf.max_drawdown), "max_drawdown_share": _ratio(perf.max_drawdown_share),
        "mean_edge": _ratio(_mean([b.edge for b in result.bets])),
        "mean_price": _ratio(_mean([float(b.price) for b in result.bets])),
        "clv": {"bets": len(clvs), "mean": _ratio(_mean(clvs)),
                "beat_share": _ratio(sum(v > 0 for v in clvs) / len(clvs) if clvs else None),
                "closing_ev_mean": _ratio(_mean(closing_evs))},
        "markets": {k: {"bets": n, "staked": _money(s), "profit": _money(p),
                        "yield": _ratio(float(p / s) if s else None)}
                    for k, (n, s, p) in sorted(by_market(result.bets).items())},
        "bet_list": [{"kickoff": b.kickoff.isoformat(), "event_id": b.event_id, "home": b.home,
                      "away": b.away, "market_key": b.market_key, "outcome_id": b.outcome_id,
                      "price": str(b.price), "probability": round(b.probability, 6),
                      "stake": str(b.stake), "status": b.status.value, "payout": str(b.payout),
                      "closing_price": str(b.closing_price) if b.closing_price else None}
                     for b in result.bets],
    }


def summary(data: dict[str, Any]) -> str:
    """The figures as a few lines of text."""
    def pct(value: float | None) -> str:
        return f"{value * 100:+.2f} %" if value is not None else "-"

    clv = data["clv"]
    lines = [
        f"strategy {data['strategy']} ({data['kind']}) at {data['bookmaker']}'s pre-match prices",
        f"model: {data['model']}",
        f"matches {data['matches']} (priced {data['matches_priced']}), bets {data['bets']}",
        f"staked {data['staked']}, returned {data['returned']}, profit {data['profit']}"
        f" (bankroll {data['bankroll']} -> {data['final_bankroll']})",
        f"ROI {pct(data['roi'])}, yield {pct(data['yield'])}, hit rate {pct(data['hit_rate'])},"
        f" max drawdown {data['max_drawdown']} ({pct(data['max_drawdown_share'])})",
        f"CLV against Pinnacle's closing prices: mean {pct(clv['mean'])} over {clv['bets']} bets,"
        f" beat the close {pct(clv['beat_share'])}, closing EV {pct(clv['closing_ev_mean'])}",
    ]
    lines += [f"  {k}: {m['bets']} bets, staked {m['staked']}, profit {m['profit']},"
              f" yield {pct(m['yield'])}" for k, m in data["markets"].items()]
    return "\n".join(lines)


def plot(result: BacktestResult, path: Path, title: str) -> None:
    """The cumulative P/L by bet and the bankroll by kick-off, as a PNG (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cumulative, running = [], Decimal(0)
    for bet in result.bets:
        running += bet.profit
        cumulative.append(float(running))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), constrained_layout=True)
    try:
        top.plot(range(1, len(cumulative) + 1), cumulative, color="#1f6feb", linewidth=1.4)
        top.axhline(0, color="#888", linewidth=0.8)
        top.set_xlabel("bet")
        top.set_ylabel("cumulative P/L")
        top.set_title(title)
        top.grid(alpha=0.3)
        if result.equity:
            bottom.step([t for t, _ in result.equity], [float(v) for _, v in result.equity],
                        where="post", color="#2da44e", linewidth=1.4)
        bottom.axhline(float(result.bankroll), color="#888", linewidth=0.8)
        bottom.set_ylabel("bankroll")
        bottom.set_xlabel("kick-off")
        bottom.grid(alpha=0.3)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
