from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.errors import SettingsError
from crawler.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]


def test_shipped_settings_file_equals_the_built_in_defaults() -> None:
    assert load_settings(REPO / "settings.toml") == Settings()


def test_shipped_settings_file_sets_every_key() -> None:
    shipped = tomllib.loads((REPO / "settings.toml").read_text())
    for section, model in Settings.model_fields.items():
        assert model.annotation is not None
        assert set(shipped[section]) == set(model.annotation.model_fields), section


def test_defaults_are_the_documented_ones() -> None:
    settings = Settings()
    assert (settings.fingerprint.prefix_bytes, settings.fingerprint.min_image_bytes, settings.fingerprint.sample_bytes) == (10240, 20480, 128)
    assert settings.output.dir == Path("data")
    assert settings.tor.proxies == ["127.0.0.1:9050"]


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[limits]\nconcurrency = 5\nper_host = 2\n")
    settings = load_settings(path, {"limits.concurrency": 9})
    assert (settings.limits.concurrency, settings.limits.per_host) == (9, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[limits]\nconcurency = 5\n", "limits.concurency: Extra inputs are not permitted"),
        ("[limits]\nper_host = 0\n", "limits.per_host: must be at least 1"),
        ("[fingerprint]\nprefix_bytes = 4096\n", "fingerprint.prefix_bytes: must be at least 10240"),
        ("[timeouts]\nread = \"slow\"\n", "timeouts.read: Input should be a valid number"),
        ("[tor]\nproxies = [\"localhost\"]\n", "tor.proxies: Value error, 'localhost' is not HOST:PORT"),
        ("[limits\n", "is not valid TOML"),
    ],
)
def test_bad_settings_name_the_key_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=None) as caught:
        load_settings(path)
    assert message in str(caught.value)


def test_missing_settings_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read settings file"):
        load_settings(tmp_path / "nope.toml")


def test_cli_stops_with_exit_2_before_any_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.toml").write_text("[limits]\nconcurrency = -1\n")
    (tmp_path / "urls.txt").write_text("http://127.0.0.1:9/never-fetched\n")
    code = main(["--settings", str(tmp_path / "s.toml"), "crawl", str(tmp_path / "urls.txt"), "-o", str(tmp_path / "out")])
    assert code == 2
    assert "limits.concurrency" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_flag_value_is_validated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "urls.txt").write_text("")
    assert main(["crawl", str(tmp_path / "urls.txt"), "--per-host", "0"]) == 2
    assert "crawler: --per-host: must be at least 1" in capsys.readouterr().err


def test_missing_url_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crawl", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read URL list" in capsys.readouterr().err
