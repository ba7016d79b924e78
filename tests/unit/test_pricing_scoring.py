"""Log-loss, Brier score and calibration on cases worked by hand."""

from __future__ import annotations

import math

import pytest

from shared.pricing.scoring import brier, calibration, is_calibrated, log_loss, one_vs_rest, score


def test_log_loss_is_the_mean_negative_log_of_what_happened() -> None:
    forecasts = [(0.5, 0.3, 0.2), (0.2, 0.5, 0.3), (0.25, 0.25, 0.5)]
    # -(ln 0.5 + ln 0.5 + ln 0.5) / 3 = ln 2
    assert log_loss(forecasts, [0, 1, 2]) == pytest.approx(math.log(2))
    assert log_loss([(0.1, 0.9)], [0]) == pytest.approx(-math.log(0.1))
    # An impossible outcome costs -ln 1e-15, not infinity.
    assert log_loss([(1.0, 0.0)], [1]) == pytest.approx(-math.log(1e-15))


def test_brier_sums_squared_errors_over_every_outcome() -> None:
    # (0.5-1)² + 0.3² + 0.2² = 0.38 and 0.2² + (0.5-1)² + 0.3² = 0.38
    assert brier([(0.5, 0.3, 0.2), (0.2, 0.5, 0.3)], [0, 1]) == pytest.approx(0.38)
    # two outcomes: twice the binary (p - y)²: 2 * 0.7² = 0.98
    assert brier([(0.3, 0.7)], [0]) == pytest.approx(0.98)
    assert brier([(1.0, 0.0, 0.0)], [0]) == 0.0
    s = score([(0.5, 0.3, 0.2), (0.2, 0.5, 0.3)], [0, 1])
    assert s.n == 2
    assert s.log_loss == pytest.approx(math.log(2))
    assert s.brier == pytest.approx(0.38)


def test_scores_refuse_mismatched_or_empty_input() -> None:
    with pytest.raises(ValueError, match="2 forecasts but 1 outcomes"):
        log_loss([(0.5, 0.5), (0.5, 0.5)], [0])
    with pytest.raises(ValueError, match="nothing to score"):
        brier([], [])


def test_calibration_bins_by_forecast_with_binomial_errors() -> None:
    probabilities = [0.05] * 10 + [0.55] * 4 + [1.0]
    happened = [True] + [False] * 9 + [True, True, True, False] + [True]
    bins = calibration(probabilities, happened)
    assert len(bins) == 10
    first, sixth, last = bins[0], bins[5], bins[9]
    assert first.n == 10
    assert first.predicted == pytest.approx(0.05)
    assert first.observed == pytest.approx(0.1)
    assert first.standard_error == pytest.approx(math.sqrt(0.05 * 0.95 / 10))  # 0.0689
    assert first.z == pytest.approx(0.05 / 0.068920, rel=1e-4)  # 0.725
    assert (sixth.n, sixth.observed) == (4, 0.75)
    assert sixth.z == pytest.approx(0.2 / math.sqrt(0.55 * 0.45 / 4))  # 0.804
    assert (last.n, last.observed) == (1, 1.0)  # 1.0 falls in the last bin
    assert bins[3].n == 0
    assert calibration([0.1], [False])[1].n == 1  # a bin's lower edge is in it


def test_calibrated_means_every_large_bin_within_two_standard_errors() -> None:
    # 100 forecasts of 0.3, 30 happened: z = 0.
    fine = calibration([0.3] * 100, [True] * 30 + [False] * 70)
    assert is_calibrated(fine)
    # 45 happened: z = 0.15 / √(0.21/100) = 3.3.
    off = calibration([0.3] * 100, [True] * 45 + [False] * 55)
    assert not is_calibrated(off)
    assert off[3].z == pytest.approx(0.15 / math.sqrt(0.0021))
    assert not off[3].within(2.0)
    # The same miss in a bin of 40 forecasts is not judged (fewer than 50).
    small = calibration([0.3] * 40, [True] * 18 + [False] * 22)
    assert is_calibrated(small)
    assert not is_calibrated(small, min_count=40)


def test_one_vs_rest_pools_every_outcome_as_its_own_event() -> None:
    probabilities, happened = one_vs_rest([(0.5, 0.3, 0.2), (0.1, 0.2, 0.7)], [0, 2])
    assert probabilities == [0.5, 0.3, 0.2, 0.1, 0.2, 0.7]
    assert happened == [True, False, False, False, False, True]
    draws = one_vs_rest([(0.5, 0.3, 0.2), (0.1, 0.2, 0.7)], [0, 2], which=[1])
    assert draws == ([0.3, 0.2], [False, False])
