"""Settings and run options of the feed generator.

:class:`FeedgenSettings` comes from the environment (``SPORTSFEED_FEEDGEN_*``) and is
built once in ``__main__``; :class:`RunOptions` describes one run and is what the CLI
flags and the control API's ``POST /start`` body fill in. The API key is a secret
without a default: a run that would post without one refuses to start.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from feedgen.emit import Fmt
from feedgen.faults import FaultPlan, parse_faults
from shared.enums import Sport

DEFAULT_URL = "http://127.0.0.1:4000"
_SHARE = re.compile(r"^\s*([a-z_]+)\s*(?:=\s*([0-9.]+))?\s*$")


def parse_shares(text: str, names: set[str], what: str) -> dict[str, float]:
    """``a,b`` (equal shares) or ``a=0.6,b=0.4`` to normalised shares by name."""
    shares: dict[str, float] = {}
    for item in (p for p in text.split(",") if p.strip()):
        match = _SHARE.match(item)
        if match is None or match[1] not in names:
            raise ValueError(f"{what} {item.strip()!r}: expected one of {sorted(names)} "
                             "with an optional =share")
        shares[match[1]] = float(match[2]) if match[2] is not None else 1.0
    total = sum(shares.values())
    if not shares or total <= 0:
        raise ValueError(f"{what}: name at least one with a positive share")
    return {name: value / total for name, value in shares.items() if value > 0}


class FeedgenSettings(BaseSettings):
    """The generator's environment (``SPORTSFEED_FEEDGEN_*``)."""

    model_config = SettingsConfigDict(env_prefix="SPORTSFEED_FEEDGEN_", frozen=True)

    api_key: SecretStr | None = None
    url: str = DEFAULT_URL
    data_dir: Path = Path(".data/feedgen")
    control_host: str = "127.0.0.1"
    control_port: int = Field(default=4004, ge=0, le=65535)
    # Providers' UOF ids are content hashes that include the provider name ingestion
    # derives from the key; knowing it lets the plan predict them.
    provider: str = Field(default="feedgen", pattern=r"^[a-z0-9_\-]{1,32}$")

    def run_options(self, given: dict[str, Any]) -> RunOptions:
        """A run's options: what was ``given`` (CLI flags, a ``POST /start`` body), else
        these settings (URL, data folder, key, provider), else :class:`RunOptions`' defaults."""
        defaults: dict[str, Any] = {"url": self.url, "data_dir": self.data_dir,
                                    "provider": self.provider}
        if self.api_key is not None:
            defaults["api_key"] = self.api_key
        return RunOptions.model_validate({**defaults, **given})


class RunOptions(BaseModel):
    """One run: what to simulate, how fast, in which formats, with which faults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    matches: Annotated[int, Field(ge=1, le=10_000)] = 20
    rate: Annotated[float, Field(gt=0, le=1_000_000)] = 200.0
    duration: Annotated[float, Field(gt=0, le=7 * 24 * 3600)] = 60.0
    formats: dict[Fmt, float] = Field(default_factory=lambda: {f: 1 / 3 for f in Fmt})
    sports: dict[Sport, float] = Field(default_factory=lambda: {s: 1 / 4 for s in Sport})
    faults: str = ""
    seed: int | None = None
    # Simulated seconds per wall second; None: chosen so the matches produce ``rate``.
    speed: Annotated[float, Field(gt=0)] | None = None
    margin: Annotated[float, Field(ge=0, le=0.5)] = 0.05
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 100
    heartbeat: Annotated[float, Field(gt=0)] = 5.0
    workers: Annotated[int, Field(ge=1, le=64)] = 2
    # Seconds a sender waits for more messages to fill a batch.
    linger: Annotated[float, Field(ge=0, le=1)] = 0.05
    max_retries: Annotated[int, Field(ge=0, le=20)] = 6
    request_timeout: Annotated[float, Field(gt=0)] = 15.0
    # After ``duration``, how long queued messages may still be sent before giving up.
    drain: Annotated[float, Field(ge=0)] = 60.0
    url: str = DEFAULT_URL
    api_key: SecretStr | None = None
    provider: str = Field(default="feedgen", pattern=r"^[a-z0-9_\-]{1,32}$")
    data_dir: Path = Path(".data/feedgen")
    run_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    # Build the plan in a child process (a second core); off: in the sending process.
    plan_process: bool = True
    # Anchor of provider timestamps; None: the moment the run starts.
    start_at: datetime | None = None

    @field_validator("formats", mode="before")
    @classmethod
    def _formats(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_shares(value, {f.value for f in Fmt}, "format")
        return value

    @field_validator("sports", mode="before")
    @classmethod
    def _sports(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_shares(value, {s.value for s in Sport}, "sport")
        return value

    @field_validator("faults")
    @classmethod
    def _faults(cls, value: str) -> str:
        parse_faults(value)  # raises with the offending item
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+$", value.rstrip("/")):
            raise ValueError(f"url {value!r} must be http(s)://host[:port]")
        return value.rstrip("/")

    @property
    def fault_plan(self) -> FaultPlan:
        """The parsed ``faults``."""
        return parse_faults(self.faults)
