"""Each run's own record: what was sent, what ingestion said, what it should become.

``<data_dir>/<run-id>/sent.jsonl`` has one line per send (a duplicate re-send is a
line of its own), ``run.json`` the options, seed and summary, and ``<data_dir>/latest``
names the newest run. The audit reads them back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

Outcome = Literal["accepted", "refused", "unacknowledged"]


@dataclass(frozen=True)
class SendRecord:
    """One send and its answer."""

    n: int  # order of sending
    message_id: str
    event_id: str
    sport: str
    kind: str
    format: str
    expect: str  # applied | duplicate | stale | refused
    outcome: Outcome
    fault: str | None = None
    after: str | None = None  # reorder: the message it was held back behind
    reason: str | None = None
    http: int | None = None
    attempts: int = 1
    partial: bool = False  # re-sent after others of its request were accepted
    at: float = 0.0  # planned seconds after the start

    def to_json(self) -> str:
        """One JSON line (without nulls and defaults that say nothing)."""
        # vars(), not asdict(): the fields are flat, and this runs once per message.
        data = {k: v for k, v in vars(self).items() if v is not None and v is not False}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> SendRecord:
        """Parse one line of ``sent.jsonl``."""
        return cls(**json.loads(line))


class RunRecord:
    """The files of one run, appended to while it runs."""

    def __init__(self, data_dir: Path, run_id: str) -> None:
        self.dir = data_dir / run_id
        self.run_id = run_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self._sent: IO[str] = (self.dir / "sent.jsonl").open("a", encoding="utf-8")
        (data_dir / "latest").write_text(run_id + "\n", encoding="utf-8")

    @property
    def sent_path(self) -> Path:
        """Path of ``sent.jsonl``."""
        return self.dir / "sent.jsonl"

    def write(self, record: SendRecord) -> None:
        """Append one send."""
        self._sent.write(record.to_json() + "\n")

    def write_meta(self, meta: dict[str, Any]) -> None:
        """(Re)write ``run.json`` atomically."""
        tmp = self.dir / "run.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
        os.replace(tmp, self.dir / "run.json")

    def flush(self) -> None:
        """Push buffered lines to the file."""
        self._sent.flush()

    def close(self) -> None:
        """Flush and close."""
        self._sent.close()


def resolve_run(data_dir: Path, run: str = "latest") -> Path:
    """The directory of ``run`` (a run id, or ``latest``); FileNotFoundError if absent."""
    if run == "latest":
        pointer = data_dir / "latest"
        if not pointer.exists():
            raise FileNotFoundError(f"no run recorded under {data_dir}")
        run = pointer.read_text(encoding="utf-8").strip()
    path = data_dir / run
    if not (path / "sent.jsonl").exists():
        raise FileNotFoundError(f"run {run}: {path / 'sent.jsonl'} does not exist")
    return path


def read_records(run_dir: Path) -> Iterator[SendRecord]:
    """Every send of a run, in order."""
    with (run_dir / "sent.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield SendRecord.from_json(line)


def read_meta(run_dir: Path) -> dict[str, Any]:
    """``run.json`` of a run (empty if it was never written)."""
    path = run_dir / "run.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}
