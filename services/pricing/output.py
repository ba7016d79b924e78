"""What a person reads of an evaluation: the score tables, calibration and the bar."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _num(x: float | None, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:+.2f} %"


def _yes(x: bool | None) -> str:
    return "n/a" if x is None else "yes" if x else "NO"


def _scores(console: Console, title: str, market: dict[str, Any], model: str) -> None:
    table = Table(title=title, title_justify="left")
    for name in ("source", "matches", "log-loss", "Brier", "model on same matches", "gap"):
        table.add_column(name, justify="left" if name == "source" else "right")
    m = market["model"]
    table.add_row(f"model ({model})", str(m["matches"]), _num(m["log_loss"]), _num(m["brier"]), "", "")
    for row in market["books"]:
        if not row["matches"]:
            table.add_row(row["label"], "0", "no prices", "", "", "")
            continue
        table.add_row(row["label"], str(row["matches"]), _num(row["log_loss"]), _num(row["brier"]),
                      _num(row["model_log_loss"]), _pct(row["gap"]))
    base = market["base_rates"]
    shares = "/".join(f"{p:.2f}" for p in base["probabilities"])
    table.add_row(f"base rates ({shares})", str(base["matches"]), _num(base["log_loss"]),
                  _num(base["brier"]), "", "")
    console.print(table)


def _calibration(console: Console, title: str, bins: dict[str, Any]) -> None:
    table = Table(title=title, title_justify="left")
    for name in ("bin", "n", "predicted", "observed", "2 SE", "z", "within 2 SE"):
        table.add_column(name, justify="right")
    for b in bins["bins"]:
        table.add_row(f"{b['lo']:.1f}-{b['hi']:.1f}", str(b["n"]), _num(b["predicted"], 3),
                      _num(b["observed"], 3), _num(2 * b["standard_error"], 3), f"{b['z']:+.2f}",
                      ("yes" if abs(b["z"]) <= 2 else "NO") + ("" if b["n"] >= 50 else " (n < 50)"))
    console.print(table)


def print_report(console: Console, report: dict[str, Any]) -> None:
    """Everything ``evaluate`` found, as tables."""
    run = report["run"]
    test = run["test"]
    console.print(
        f"[bold]{run['model']['name']}[/bold] on {test['file']} ({test['season'] or '?'}, "
        f"{test['matches']} matches), trained on {len(run['train']['files'])} files "
        f"({run['train']['matches']} matches); walked forward over {run['weeks']} match weeks "
        f"({run['fit_cpu_seconds']:.1f} s of CPU fitting); bookmakers' margins removed by the "
        f"{report['margin_method']} method"
    )
    model = run["model"]["name"]
    _scores(console, "1X2", report["one_x_two"], model)
    totals = report["over_under_25"]
    if not any(r["matches"] for r in totals["books"]):
        console.print("(this file has no over/under 2.5 prices: the model and the base rates only)")
    _scores(console, "Over/under 2.5 goals", totals, model)
    calib = report["calibration"]
    one = calib["one_x_two"]
    _calibration(console, "Calibration, 1X2 (home, draw and away forecasts pooled)", one)
    console.print("calibrated (every bin of >= 50 within 2 SE): " + _yes(one["calibrated"]) + "; "
                  + ", ".join(f"{k} {_yes(v['calibrated'])}" for k, v in one["by_outcome"].items()))
    _calibration(console, "Calibration, over 2.5 goals", calib["over_25"])
    console.print("calibrated: " + _yes(calib["over_25"]["calibrated"]))
    bar = report["bar"]
    console.print(
        f"[bold]Bar[/bold] (within {bar['within']:.0%} of Pinnacle closing): "
        f"1X2 {_yes(bar['one_x_two_within_bar'])} ({_pct(bar['one_x_two_gap_to_pinnacle_closing'])}), "
        f"over/under 2.5 {_yes(bar['over_under_25_within_bar'])} "
        f"({_pct(bar['over_under_25_gap_to_pinnacle_closing'])}), calibrated {_yes(bar['calibrated'])}; "
        f"moonshot: beats Bet365 closing {_yes(bar['beats_bet365_closing'])}, "
        f"Bet365 opening {_yes(bar['beats_bet365_opening'])}"
    )
