"""The evaluation's figures, JSON-ready: the model against the bookmakers and the base rates.

One dict holds everything ``evaluate`` prints, writes with ``--json`` and plots, so the
three never disagree. Every bookmaker row scores the book on the matches where it has a
full book *and* the model on those same matches (``model_log_loss``): ``gap`` is the
model's log-loss over the book's, minus one, on equal terms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shared.footballdata.model import Match
from shared.pricing.football_books import (
    BET365_CLOSING,
    BET365_OPENING,
    PINNACLE_CLOSING,
    PINNACLE_OPENING,
    Book,
    fair_1x2,
    fair_over_25,
)
from shared.pricing.margins import Method
from shared.pricing.scoring import (
    CalibrationBin,
    Score,
    calibration,
    is_calibrated,
    one_vs_rest,
    score,
)
from shared.pricing.walkforward import Prediction, outcome, went_over

BOOKS = (PINNACLE_CLOSING, PINNACLE_OPENING, BET365_CLOSING, BET365_OPENING)
OUTCOMES_1X2 = ("home", "draw", "away")
BAR = 0.01  # the bar: log-loss within 1 % of Pinnacle's closing prices
MIN_BIN = 50  # calibration is judged on bins of at least this many forecasts
Forecast = Sequence[float]


def _score(s: Score) -> dict[str, Any]:
    return {"matches": s.n, "log_loss": s.log_loss, "brier": s.brier}


def _market(
    predictions: Sequence[Prediction], model: Callable[[Prediction], Forecast],
    result: Callable[[Match], int], book: Callable[[Match, Book], Forecast | None],
    base: Forecast,
) -> dict[str, Any]:
    """Model, each book (and the model on its matches), base rates: one market's scores."""
    outcomes = [result(p.match) for p in predictions]
    rows = []
    for b in BOOKS:
        pairs = [(q, model(p), result(p.match)) for p in predictions
                 if (q := book(p.match, b)) is not None]
        row: dict[str, Any] = {"source": b.key, "label": b.label, "matches": len(pairs)}
        if pairs:
            theirs = score([q for q, _, _ in pairs], [k for _, _, k in pairs])
            ours = score([m for _, m, _ in pairs], [k for _, _, k in pairs])
            row.update(_score(theirs), model_log_loss=ours.log_loss, model_brier=ours.brier,
                       gap=ours.log_loss / theirs.log_loss - 1)
        rows.append(row)
    return {
        "model": _score(score([model(p) for p in predictions], outcomes)),
        "books": rows,
        "base_rates": {"probabilities": list(base),
                       **_score(score([base] * len(outcomes), outcomes))},
    }


def _bins(bins: Sequence[CalibrationBin]) -> dict[str, Any]:
    return {
        "calibrated": is_calibrated(bins, MIN_BIN),
        "bins": [{"lo": b.lo, "hi": b.hi, "n": b.n, "predicted": b.predicted, "observed": b.observed,
                  "standard_error": b.standard_error, "z": b.z} for b in bins if b.n],
    }


def _calibration(forecasts: Sequence[Forecast], outcomes: Sequence[int],
                 names: Sequence[str]) -> dict[str, Any]:
    """Pooled over the outcomes (each forecast once per outcome), and outcome by outcome."""
    pooled = _bins(calibration(*one_vs_rest(forecasts, outcomes)))
    pooled["by_outcome"] = {name: _bins(calibration(*one_vs_rest(forecasts, outcomes, [j])))
                            for j, name in enumerate(names)}
    return pooled


def _book_1x2(method: Method) -> Callable[[Match, Book], Forecast | None]:
    return lambda m, b: fair_1x2(m, b, method)


def _book_over(method: Method) -> Callable[[Match, Book], Forecast | None]:
    def over(m: Match, b: Book) -> Forecast | None:
        p = fair_over_25(m, b, method)
        return None if p is None else (p, 1 - p)

    return over


def base_rates(train: Sequence[Match]) -> tuple[list[float], float]:
    """The training matches' home/draw/away shares and share over 2.5 goals."""
    n = len(train)
    shares = [sum(1 for m in train if outcome(m) == k) / n for k in range(3)]
    return shares, sum(1 for m in train if went_over(m)) / n


def _over_forecast(p: Prediction) -> Forecast:
    return (p.over_25, p.under_25)


def _over_outcome(m: Match) -> int:
    return 0 if went_over(m) else 1


def build_report(predictions: Sequence[Prediction], train: Sequence[Match], *,
                 method: Method = Method.POWER) -> dict[str, Any]:
    """Every figure of an evaluation (the caller adds what was run: files, model, timing)."""
    if not predictions:
        raise ValueError("no predictions to score")
    shares, over = base_rates(train)
    one_x_two = _market(predictions, lambda p: p.home_draw_away, outcome, _book_1x2(method), shares)
    totals = _market(predictions, _over_forecast, _over_outcome, _book_over(method), (over, 1 - over))
    forecasts = [p.home_draw_away for p in predictions]
    outcomes = [outcome(p.match) for p in predictions]
    pin_1x2 = [(q, outcome(p.match)) for p in predictions
               if (q := fair_1x2(p.match, PINNACLE_CLOSING, method)) is not None]
    pin_over = [(o, went_over(p.match)) for p in predictions
                if (o := fair_over_25(p.match, PINNACLE_CLOSING, method)) is not None]
    calib = {
        "one_x_two": _calibration(forecasts, outcomes, OUTCOMES_1X2),
        "over_25": _bins(calibration([p.over_25 for p in predictions],
                                     [went_over(p.match) for p in predictions])),
        # Pinnacle's own, for reference (and the plot)
        "pinnacle_closing_one_x_two": _bins(calibration(*one_vs_rest(
            [q for q, _ in pin_1x2], [k for _, k in pin_1x2]))) if pin_1x2 else None,
        "pinnacle_closing_over_25": _bins(calibration(
            [q for q, _ in pin_over], [h for _, h in pin_over])) if pin_over else None,
    }
    return {
        "margin_method": method.value,
        "one_x_two": one_x_two,
        "over_under_25": totals,
        "calibration": calib,
        "bar": _bar(one_x_two, totals, calib),
    }


def _row(market: dict[str, Any], source: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = next((r for r in market["books"] if r["source"] == source), None)
    return row if row and row["matches"] else None


def _bar(one_x_two: dict[str, Any], totals: dict[str, Any], calib: dict[str, Any]) -> dict[str, Any]:
    """The issue's bar and moonshot, as met or not (None where the file lacks the prices)."""
    out: dict[str, Any] = {"within": BAR}
    for name, market in (("one_x_two", one_x_two), ("over_under_25", totals)):
        pin = _row(market, PINNACLE_CLOSING.key)
        out[f"{name}_gap_to_pinnacle_closing"] = pin["gap"] if pin else None
        out[f"{name}_within_bar"] = pin["gap"] <= BAR if pin else None
    out["calibrated"] = calib["one_x_two"]["calibrated"] and calib["over_25"]["calibrated"]
    for book in (BET365_CLOSING, BET365_OPENING):
        row = _row(one_x_two, book.key)
        out[f"beats_{book.key}"] = row["gap"] < 0 if row else None
    return out
