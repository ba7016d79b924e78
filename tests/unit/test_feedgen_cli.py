"""The generator's command line takes its defaults from the settings and RunOptions."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from feedgen.__main__ import _options, _run_parser
from feedgen.settings import FeedgenSettings, RunOptions


def parse(*argv: str, settings: FeedgenSettings | None = None) -> RunOptions:
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    _run_parser(sub)
    return _options(parser.parse_args(["run", *argv]), settings or FeedgenSettings())


def test_flags_left_out_fall_back_on_the_settings_then_on_run_options() -> None:
    settings = FeedgenSettings(url="http://ingest.example:4000", api_key=SecretStr("k" * 20),
                               data_dir=Path("/tmp/records"), provider="acme")
    opts = parse(settings=settings)
    defaults = RunOptions()
    for field in ("matches", "rate", "duration", "margin", "batch_size", "heartbeat", "workers",
                  "linger", "max_retries", "drain", "formats", "sports", "faults", "seed"):
        assert getattr(opts, field) == getattr(defaults, field), field
    assert (opts.url, opts.data_dir, opts.provider) == (
        "http://ingest.example:4000", Path("/tmp/records"), "acme")
    assert opts.api_key is not None


def test_flags_given_win() -> None:
    opts = parse("--matches", "3", "--rate", "50", "--max-retries", "2", "--formats", "json",
                 "--url", "http://127.0.0.1:9", "--run-id", "r1")
    assert (opts.matches, opts.rate, opts.max_retries, opts.run_id) == (3, 50.0, 2, "r1")
    assert opts.url == "http://127.0.0.1:9"
    assert set(opts.formats) == {"json"}


def test_help_shows_the_defaults_of_run_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--help")
    text = capsys.readouterr().out
    assert f"(default {RunOptions().matches})" in text
    assert f"(default {RunOptions().max_retries})" in text
