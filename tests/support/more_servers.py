"""Real servers on loopback that do not behave like nginx: Apache forcing gzip, Python's http.server.

Apache with ``SetOutputFilter DEFLATE`` and the client's Accept-Encoding
rewritten compresses every answer: a small file's Range request gets a 206
whose Content-Range counts compressed bytes, a large one's a chunked 200 of
the whole compressed file. ``python -m http.server`` ignores Range and
answers 200 with the whole file. Both serve a folder on a free loopback port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.servers import free_port, wait_for_port

APACHE = "/usr/sbin/apache2"
_MODULES = "/usr/lib/apache2/modules"

_CONFIG = """
ServerRoot {state}
PidFile {state}/httpd.pid
ErrorLog {state}/error.log
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule filter_module {modules}/mod_filter.so
LoadModule deflate_module {modules}/mod_deflate.so
LoadModule headers_module {modules}/mod_headers.so
LoadModule env_module {modules}/mod_env.so
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
{user}
TypesConfig /etc/mime.types
DocumentRoot {root}
LogFormat "%r %>s %O %B \\"%{{Range}}i\\" \\"%{{Accept}}i\\"" bytes
CustomLog {state}/access.log bytes
<Directory {root}>
    Require all granted
</Directory>
# Compress whatever the client asks for: what a misconfigured site does.
RequestHeader set Accept-Encoding gzip early
SetOutputFilter DEFLATE
SetEnv force-gzip 1
"""


class Apache:
    """Apache (Debian's apache2) compressing every answer of ``root``'s files; stop() when done.

    Apache refuses to serve as root, so as root it runs as www-data, which
    cannot read pytest's private temporary folders: the files are copied to a
    world-readable folder of their own.
    """

    def __init__(self, root: Path, state: Path) -> None:
        if not Path(APACHE).exists():
            raise RuntimeError("apache2 is not installed: apt-get install apache2")
        self.state = state
        self.port = free_port()
        state.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="crawler-apache-"))
        shutil.copytree(root, self.root, dirs_exist_ok=True)
        for folder in (self.root, *[p for p in self.root.rglob("*")]):
            folder.chmod(0o755 if folder.is_dir() else 0o644)
        user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
        config = state / "httpd.conf"
        config.write_text(_CONFIG.format(state=state, modules=_MODULES, port=self.port, user=user, root=self.root))
        self._process = subprocess.Popen(
            [APACHE, "-f", str(config), "-DFOREGROUND"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            wait_for_port(self.port)
        except RuntimeError:
            self.stop()
            assert self._process.stderr is not None
            raise RuntimeError(f"apache2 did not start: {self._process.stderr.read().decode(errors='replace')}")

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def access_log(self) -> list[str]:
        return (self.state / "access.log").read_text().splitlines()

    def stop(self) -> None:
        _stop(self._process)
        shutil.rmtree(self.root, ignore_errors=True)


class HttpServer:
    """``python -m http.server`` serving ``root``: it ignores Range and answers 200 with the whole file."""

    def __init__(self, root: Path, state: Path) -> None:
        self.port = free_port()
        state.mkdir(parents=True, exist_ok=True)
        self.log = state / "http.server.log"
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(self.port)
        except RuntimeError:
            self.stop()
            raise

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self) -> list[str]:
        """The request lines logged (``GET /x HTTP/1.1" 200 -``)."""
        return [line.split('"', 1)[1] for line in self.log.read_text().splitlines() if '"GET ' in line]

    def stop(self) -> None:
        _stop(self._process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
