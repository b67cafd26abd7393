"""Settings: built-in defaults < settings.toml < command-line flags.

The defaults below mirror the documented ``settings.toml`` at the top of the
repository. Unknown keys are errors (a typo must not silently fall back to a
default), and every error names the dotted key and the problem.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from crawler.errors import SettingsError
from crawler.models import HASHED_PREFIX_BYTES


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FingerprintSettings(_Section):
    prefix_bytes: int = Field(default=10240, ge=HASHED_PREFIX_BYTES, le=16 * 1024 * 1024)
    min_image_bytes: int = Field(default=20480, ge=0)
    sample_bytes: int = Field(default=128, ge=1, le=HASHED_PREFIX_BYTES)
    max_bytes_per_image: int = Field(default=262144, ge=HASHED_PREFIX_BYTES)
    max_rounds: int = Field(default=4, ge=0, le=16)
    content_bytes: int = Field(default=4096, ge=64, le=1024 * 1024)
    whole_file_bytes: int = Field(default=65536, ge=0)


class OutputSettings(_Section):
    dir: Path = Path("data")
    keep_thumbnails: bool = False


class IndexSettings(_Section):
    enabled: bool = True
    url: str = ""
    # Bits of 64 at which two pHashes are taken for one picture, per kind of hash: EXIF thumbnails,
    # and top bands of web images (only bands of one kind compare). Both measured by the eval harness.
    phash_threshold: int = Field(default=8, ge=0, le=15)
    band_threshold: int = Field(default=7, ge=0, le=15)


class QueueSettings(_Section):
    url: str = ""  # postgresql://...: crawl through the work queue there (README: "Scaling to many machines")
    batch_size: int = Field(default=50, ge=1, le=100000)
    jobs: int = Field(default=32, ge=1, le=4096)
    lease: float = Field(default=30.0, ge=1.0)
    attempts: int = Field(default=5, ge=1, le=100)
    only: Literal["", "onion", "clearnet"] = ""
    files: bool = False

    @field_validator("url")
    @classmethod
    def _postgresql(cls, url: str) -> str:
        if url and not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return url


class LimitsSettings(_Section):
    concurrency: int = Field(default=32, ge=1, le=4096)
    per_host: int = Field(default=6, ge=1, le=4096)
    processes: int = Field(default=1, ge=1, le=256)
    max_page_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_images_per_page: int = Field(default=1000, ge=1)
    max_redirects: int = Field(default=10, ge=0, le=50)
    probing: int = Field(default=512, ge=1, le=65536)
    dead_host_failures: int = Field(default=3, ge=0, le=1000)
    max_url_length: int = Field(default=8192, ge=64)
    max_pages_per_host: int = Field(default=10000, ge=1)


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


class SafetySettings(_Section):
    found_through_tor: Literal["tor", "skip", "direct"] = "tor"
    allow_private_targets: bool = False
    public_networks: list[str] = Field(default_factory=list)
    verify_onion_tls: bool = True

    @field_validator("public_networks")
    @classmethod
    def _networks(cls, networks: list[str]) -> list[str]:
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network (CIDR such as 10.8.0.0/16)") from None
        return networks


class Settings(_Section):
    fingerprint: FingerprintSettings = FingerprintSettings()
    output: OutputSettings = OutputSettings()
    limits: LimitsSettings = LimitsSettings()
    timeouts: TimeoutSettings = TimeoutSettings()
    retries: RetrySettings = RetrySettings()
    http: HttpSettings = HttpSettings()
    tor: TorSettings = TorSettings()
    safety: SafetySettings = SafetySettings()
    index: IndexSettings = IndexSettings()
    queue: QueueSettings = QueueSettings()


FINGERPRINT_DEFAULTS = FingerprintSettings()  # what pure code falls back to when not given settings
INDEX_DEFAULTS = IndexSettings()  # the evaluation measures at the thresholds matching uses


def load_settings(
    path: Path | None = None, overrides: dict[str, Any] | None = None, names: dict[str, str] | None = None
) -> Settings:
    """Read ``path`` (TOML) if given, apply dotted-key overrides, validate.

    An error names the dotted key and the file, or, for a key that came from
    ``overrides``, the name ``names`` gives it (the command-line flag).
    """
    data: dict[str, Any] = _read_toml(path) if path is not None else {}
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        data.setdefault(section, {})[key] = value
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        from_flags = {dotted: (names or {}).get(dotted, dotted) for dotted in overrides or {}}
        problems = [_problem(error, from_flags) for error in exc.errors()]
        flagged = [text for text, flag in problems if flag]
        in_file = [text for text, flag in problems if not flag]
        messages = flagged + ([f"invalid settings{f' in {path}' if path else ''}: {'; '.join(in_file)}"] if in_file else [])
        raise SettingsError("; ".join(messages)) from None


def _problem(error: ErrorDetails, from_flags: dict[str, str]) -> tuple[str, bool]:
    """One validation error in words, and whether it names a command-line flag."""
    dotted = ".".join(str(part) for part in error["loc"])
    context = error.get("ctx", {})
    bounds = {"greater_than_equal": "at least {ge}", "less_than_equal": "at most {le}",
              "greater_than": "more than {gt}", "less_than": "less than {lt}"}
    text = f"must be {bounds[error['type']].format(**context)}" if error["type"] in bounds else error["msg"]
    if dotted in from_flags:
        return f"{from_flags[dotted]}: {text}", True
    return f"{dotted}: {text}", False


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from None
