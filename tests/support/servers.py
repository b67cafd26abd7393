"""Real servers on loopback for the tests: nginx serving a folder.

nginx is what production sites run: it answers Range with 206 and
Content-Range, sends ETags (hex mtime-size) and logs every byte it sends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

_CONFIG = """
worker_processes 1;
{user}
pid {state}/nginx.pid;
error_log {state}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{
        text/html html htm; image/jpeg jpg jpeg; image/png png; image/gif gif;
        image/webp webp; image/tiff tif tiff; image/heic heic; text/plain txt;
    }}
    default_type application/octet-stream;
    log_format bytes '$request_method $request_uri $status $bytes_sent $body_bytes_sent "$http_range" $request_length $connection $msec $request_time';
    access_log {state}/access.log bytes;
    client_body_temp_path {state}/body;
    proxy_temp_path {state}/proxy;
    fastcgi_temp_path {state}/fastcgi;
    uwsgi_temp_path {state}/uwsgi;
    scgi_temp_path {state}/scgi;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        {extra}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise RuntimeError("nginx is not installed: the integration tests need it (apt-get install nginx-light)")
    return found


class Nginx:
    """nginx serving ``root`` on a free loopback port; stop() when done."""

    def __init__(self, root: Path, state: Path, extra: str = "") -> None:
        self.root = root
        self.state = state
        self.port = free_port()
        state.mkdir(parents=True, exist_ok=True)
        config = state / "nginx.conf"
        user = "user root;" if os.geteuid() == 0 else ""
        config.write_text(_CONFIG.format(user=user, state=state, port=self.port, root=root, extra=extra))
        self._process = subprocess.Popen(
            [nginx_binary(), "-c", str(config), "-p", str(state), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_port(self.port)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"nginx did not start: {(state / 'error.log').read_text(errors='replace')}")

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def access_log(self) -> list[str]:
        return (self.state / "access.log").read_text().splitlines()

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
