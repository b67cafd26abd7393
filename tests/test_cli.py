"""The command line as a newcomer meets it: --version, --help, where --settings goes, sizes in the summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.cli import main
from crawler.console import _size


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == "crawler 0.1.0"


def test_help_describes_the_tool_not_the_module(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "Fingerprint images on the web without downloading them" in out
    assert "parse arguments" not in out  # the module docstring's first line


@pytest.mark.parametrize("before", [True, False])
def test_settings_are_taken_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], before: bool
) -> None:
    settings = tmp_path / "s.toml"
    settings.write_text("[limits]\nconcurrency = 0\n")
    (tmp_path / "urls.txt").write_text("http://127.0.0.1:9/never-fetched\n")
    where = ["--settings", str(settings)]
    command = ["crawl", str(tmp_path / "urls.txt"), "-o", str(tmp_path / "out")]
    assert main(where + command if before else command + where) == 2
    assert f"invalid settings in {settings}: limits.concurrency: must be at least 1" in capsys.readouterr().err


def test_a_flag_error_names_the_flag_and_a_file_error_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "s.toml"
    settings.write_text("[retries]\nattempts = 0\n")
    (tmp_path / "urls.txt").write_text("")
    assert main(["crawl", str(tmp_path / "urls.txt"), "--settings", str(settings), "--concurrency", "0"]) == 2
    err = capsys.readouterr().err
    assert "--concurrency: must be at least 1" in err
    assert "retries.attempts: must be at least 1" in err


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (10240, "10.0 KiB"), (5 * 1024**2, "5.0 MiB"), (3 * 1024**3, "3.0 GiB")],
)
def test_sizes_are_in_binary_units(count: int, text: str) -> None:
    assert _size(count) == text
