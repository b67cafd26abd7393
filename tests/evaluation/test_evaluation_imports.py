"""The harness never imports the network stack.

``crawler eval`` reads local files only: importing HTTP, SOCKS and retry code
costs start-up time and would tie the harness to the crawl loop. Checked in a
fresh interpreter that writes ``sys.modules`` to a file on exit, for the
harness's modules and for the command line, ``python -m crawler eval``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli_process import child_env

NETWORK = ("httpx", "httpcore", "socksio", "tenacity", "crawler.net", "crawler.run")

# Run first in the child: on exit (SystemExit included) write every imported module's name to argv[1].
_RECORD_MODULES = """
import atexit, json, sys
def _record(path=sys.argv.pop(1)):
    with open(path, "w") as out:
        json.dump(sorted(sys.modules), out)
atexit.register(_record)
"""
_EVERY_HARNESS_MODULE = """
import importlib, pkgutil, crawler.evaluation as package
for module in pkgutil.walk_packages(package.__path__, "crawler.evaluation."):
    importlib.import_module(module.name)
"""
_AS_PYTHON_M_CRAWLER = """
import runpy
runpy.run_module("crawler", run_name="__main__", alter_sys=True)
"""


class Child:
    """A finished child interpreter and the modules it had imported."""

    def __init__(self, code: str, *args: str, cwd: Path) -> None:
        record = cwd / "modules.json"
        self.done = subprocess.run(
            [sys.executable, "-c", _RECORD_MODULES + code, str(record), *args],
            cwd=cwd, env=child_env(), capture_output=True, text=True, timeout=120,
        )
        self.modules: list[str] = json.loads(record.read_text())

    def network(self) -> list[str]:
        return [m for m in self.modules if any(m == n or m.startswith(f"{n}.") for n in NETWORK)]


def test_the_check_sees_a_network_import(tmp_path: Path) -> None:
    child = Child("import crawler.run.follow_up", cwd=tmp_path)
    assert {"httpx", "crawler.net.fetch", "crawler.run.follow_up"} <= set(child.network())


def test_harness_modules_do_not_import_the_network_stack(tmp_path: Path) -> None:
    child = Child(_EVERY_HARNESS_MODULE, cwd=tmp_path)
    assert child.done.returncode == 0, child.done.stderr[-2000:]
    harness = {"crawler.evaluation.command", "crawler.evaluation.harness", "crawler.evaluation.render.markdown"}
    assert harness <= set(child.modules)
    assert child.network() == []


@pytest.fixture(scope="module")
def cli_on_empty_folder(tmp_path_factory: pytest.TempPathFactory) -> Child:
    base = tmp_path_factory.mktemp("cli")
    (base / "images").mkdir()  # empty; the child's record of its modules goes beside it
    return Child(_AS_PYTHON_M_CRAWLER, "eval", str(base / "images"), cwd=base)


def test_cli_on_an_empty_folder_says_so(cli_on_empty_folder: Child) -> None:
    done = cli_on_empty_folder.done
    assert done.returncode == 2
    assert "no image to evaluate" in done.stderr and done.stdout == ""
    assert {"crawler.cli", "crawler.evaluation.command"} <= set(cli_on_empty_folder.modules)


def test_cli_eval_does_not_import_the_network_stack(cli_on_empty_folder: Child) -> None:
    assert cli_on_empty_folder.network() == []
