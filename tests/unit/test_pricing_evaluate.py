"""``python -m services.pricing evaluate`` on synthetic seasons: what it prints, writes and plots."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from services.pricing.__main__ import main as pricing_main
from services.pricing.evaluate import main as evaluate_main
from tests.support.football_season import csv_bytes, season_rows

TRAIN_START, TEST_START = date(2021, 8, 14), date(2022, 8, 13)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    train, test = tmp_path / "E0_2122.csv", tmp_path / "E0_2223.csv"
    train.write_bytes(csv_bytes(season_rows(TRAIN_START, seed=1)))
    test.write_bytes(csv_bytes(season_rows(TEST_START, seed=2)))
    return train, test


def test_evaluate_prints_the_tables_and_writes_json_and_a_plot(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, test = files
    out_json, out_png = tmp_path / "out" / "e.json", tmp_path / "out" / "e.png"
    status = pricing_main(["evaluate", "--train", str(train), "--test", str(test),
                           "--json", str(out_json), "--plot", str(out_png)])
    assert status == 0
    printed = capsys.readouterr().out
    for text in ("1X2", "Pinnacle closing", "Pinnacle opening", "Bet365 closing", "base rates",
                 "Over/under 2.5", "Calibration", "power method", "Bar"):
        assert text in printed
    report = json.loads(out_json.read_text())
    assert report["run"]["test"] == {"file": "E0_2223.csv", "season": "2022/23", "divisions": ["E0"],
                                     "matches": 30, "rows_skipped": 0}
    assert report["run"]["weeks"] == 10
    assert report["run"]["model"] == {"name": "market", "settings": {}}
    one = report["one_x_two"]
    assert one["model"]["matches"] == 30
    pinnacle = next(r for r in one["books"] if r["source"] == "pinnacle_closing")
    # The synthetic prices are the truth's own: the model learns it back within a few percent.
    assert pinnacle["matches"] == 30
    assert abs(pinnacle["gap"]) < 0.03
    assert pinnacle["model_log_loss"] == pytest.approx(one["model"]["log_loss"])
    bet365 = next(r for r in one["books"] if r["source"] == "bet365_closing")
    assert bet365["matches"] == 0  # the file has no Bet365 columns
    assert report["margin_method"] == "power"
    assert report["calibration"]["one_x_two"]["bins"]
    assert set(report["calibration"]["one_x_two"]["by_outcome"]) == {"home", "draw", "away"}
    assert report["bar"]["beats_bet365_closing"] is None
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_takes_a_layout_it_has_never_seen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file whose only prices are an unknown bookmaker's, with extra columns, no over/under."""
    train, test = tmp_path / "X1_2122.csv", tmp_path / "X1_2223.csv"
    for path, start, seed in ((train, TRAIN_START, 1), (test, TEST_START, 2)):
        lines = csv_bytes(season_rows(start, seed), division="X1").decode().splitlines()
        header = lines[0].replace("PSCH,PSCD,PSCA", "ZZH,ZZD,ZZA").replace("PSH,PSD,PSA,", "") \
            .replace(",P>2.5,P<2.5,PC>2.5,PC<2.5", ",Weather")
        rows = []
        for line in lines[1:]:
            cells = line.split(",")
            rows.append(",".join([*cells[:7], *cells[10:13], "sunny"]))
        path.write_text("\r\n".join([header, *rows]) + "\r\n")
    out_json = tmp_path / "e.json"
    assert evaluate_main(["--train", str(train), "--test", str(test), "--json", str(out_json)]) == 0
    report = json.loads(out_json.read_text())
    assert all(r["matches"] == 0 for r in report["one_x_two"]["books"])
    assert "no over/under 2.5 prices" in capsys.readouterr().out
    # The unknown book's prices still teach the market model: it is far better than base rates.
    assert report["one_x_two"]["model"]["log_loss"] < report["one_x_two"]["base_rates"]["log_loss"]
    assert report["bar"]["one_x_two_within_bar"] is None


def test_evaluate_runs_the_named_models_with_their_settings(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    train, test = files
    out_json = tmp_path / "e.json"
    assert evaluate_main(["--train", str(train), "--test", str(test), "--model", "dixon-coles",
                          "--param", "prior_sd=0.3", "--margin", "shin", "--json", str(out_json)]) == 0
    report = json.loads(out_json.read_text())
    assert report["run"]["model"] == {"name": "dixon-coles", "settings": {"prior_sd": 0.3}}
    assert report["margin_method"] == "shin"


def test_bad_arguments_and_files_exit_two(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, test = files
    missing = tmp_path / "nope.csv"
    assert evaluate_main(["--train", str(missing), "--test", str(test)]) == 2
    assert "nope.csv" in capsys.readouterr().err
    not_csv = tmp_path / "notes.csv"
    not_csv.write_text("hello,world\r\n1,2\r\n")
    assert evaluate_main(["--train", str(train), "--test", str(not_csv)]) == 2
    assert "not a football-data file" in capsys.readouterr().err
    assert evaluate_main(["--train", str(train), "--test", str(test), "--param", "bogus=1"]) == 2
    assert "has no setting bogus" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        evaluate_main(["--train", str(train), "--test", str(test), "--param", "xi"])
    assert exit_info.value.code == 2


def test_the_dispatcher_knows_its_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert pricing_main([]) == 2
    assert pricing_main(["bogus"]) == 2
    assert "usage: python -m services.pricing {fit,evaluate,run}" in capsys.readouterr().err
    assert pricing_main(["--help"]) == 0
