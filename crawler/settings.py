"""Settings: built-in defaults < settings.toml < command-line flags.

The defaults below mirror the documented ``settings.toml`` at the top of the
repository. Unknown keys are errors (a typo must not silently fall back to a
default), and every error names the dotted key and the problem.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crawler.errors import SettingsError
from crawler.fingerprint import HASHED_PREFIX_BYTES


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FingerprintSettings(_Section):
    prefix_bytes: int = Field(default=10240, ge=HASHED_PREFIX_BYTES, le=16 * 1024 * 1024)
    min_image_bytes: int = Field(default=20480, ge=0)
    sample_bytes: int = Field(default=128, ge=1, le=HASHED_PREFIX_BYTES)
    max_bytes_per_image: int = Field(default=262144, ge=HASHED_PREFIX_BYTES)
    max_rounds: int = Field(default=4, ge=0, le=16)
    content_bytes: int = Field(default=4096, ge=64, le=1024 * 1024)


class OutputSettings(_Section):
    dir: Path = Path("data")
    keep_thumbnails: bool = False


class IndexSettings(_Section):
    enabled: bool = True
    url: str = ""
    # The evaluation's measured default (crawler.evaluation.hashing.DEFAULT_PHASH_THRESHOLD).
    phash_threshold: int = Field(default=8, ge=0, le=15)


class LimitsSettings(_Section):
    concurrency: int = Field(default=32, ge=1, le=4096)
    per_host: int = Field(default=6, ge=1, le=4096)
    processes: int = Field(default=1, ge=1, le=256)
    max_page_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_images_per_page: int = Field(default=1000, ge=1)
    max_redirects: int = Field(default=10, ge=0, le=50)


class TimeoutSettings(_Section):
    connect: float = Field(default=10.0, gt=0)
    read: float = Field(default=30.0, gt=0)
    total: float = Field(default=60.0, gt=0)
    onion_connect: float = Field(default=60.0, gt=0)
    onion_read: float = Field(default=120.0, gt=0)
    onion_total: float = Field(default=300.0, gt=0)


class RetrySettings(_Section):
    attempts: int = Field(default=3, ge=1, le=20)
    backoff: float = Field(default=1.0, ge=0)
    max_backoff: float = Field(default=30.0, ge=0)
    max_retry_after: float = Field(default=120.0, ge=0)


class HttpSettings(_Section):
    user_agent: str = Field(default="crawler/0.1 (image fingerprinting; Range requests only)", min_length=1)


class TorSettings(_Section):
    proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1:9050"], min_length=1)
    route_all: bool = False

    @field_validator("proxies")
    @classmethod
    def _host_port(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            host, _, port = proxy.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{proxy!r} is not HOST:PORT")
        return proxies


class Settings(_Section):
    fingerprint: FingerprintSettings = FingerprintSettings()
    output: OutputSettings = OutputSettings()
    limits: LimitsSettings = LimitsSettings()
    timeouts: TimeoutSettings = TimeoutSettings()
    retries: RetrySettings = RetrySettings()
    http: HttpSettings = HttpSettings()
    tor: TorSettings = TorSettings()
    index: IndexSettings = IndexSettings()


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read ``path`` (TOML) if given, apply dotted-key overrides, validate."""
    data: dict[str, Any] = _read_toml(path) if path is not None else {}
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        data.setdefault(section, {})[key] = value
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        where = f" in {path}" if path is not None else ""
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid settings{where}: {problems}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from None
