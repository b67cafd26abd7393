"""A real, misbehaving HTTP/1.1 server on loopback, for the fault tests.

nginx (``tests/support/servers.py``) behaves well; the web does not. This server runs
in background threads (one per connection, keep-alive supported) and answers
each path with a *behaviour*: a function of one :class:`Exchange` that may
ignore Range, lie in its headers, reset the connection mid-body, trickle,
fail a few times before succeeding, or speak TLS with a certificate nobody
trusts. Everything a test needs to check from the server's side is recorded:
every request (time, method, path, Host, Range, Accept-Encoding), how many
times each path was asked for, and how many body bytes the kernel accepted
for each path before the client went away.

Behaviours are built by the factories below (``static``, ``ignore_range``,
``partial``, ``reset_mid_body``, ``trickle``, ``fail_first``, ``redirect``,
``gzipped``, ...) and registered with :meth:`FaultyServer.route`. A request
in absolute form (``GET http://host/path``, as sent to a forward proxy) is
answered by its path, so the server can stand in for any host name.
"""

from __future__ import annotations

import re
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from socketserver import TCPServer, ThreadingMixIn
from urllib.parse import urlsplit

Behaviour = Callable[["Exchange"], None]

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    time: float  # time.monotonic() on arrival
    method: str
    path: str
    host: str | None
    range: str | None
    accept_encoding: str | None


@dataclass
class Exchange:
    """One request being answered; behaviours write the answer through it."""

    handler: _Handler
    request: Request
    attempt: int  # 1 for the first request of this path, 2 for the next...
    sent: int = field(default=0)  # body bytes the kernel accepted

    @property
    def server(self) -> FaultyServer:
        return self.handler.server.faulty

    def head(self, status: int, headers: dict[str, str]) -> None:
        """Status line and headers, nothing else (no automatic Content-Length)."""
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Whatever')}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.handler.connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def write(self, data: bytes) -> None:
        """Send body bytes, counting what the kernel accepted (raises once the client is gone)."""
        view = memoryview(data)
        while view:
            count = self.handler.connection.send(view)
            self.sent += count
            self.server.count_sent(self.request.path, count)
            view = view[count:]

    def respond(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        """A well-formed answer with its Content-Length; the connection stays open."""
        self.head(status, {**headers, "Content-Length": str(len(body))})
        self.write(body)

    def hang_up(self) -> None:
        """Close the connection after this answer (its body was cut or never ends)."""
        self.handler.close_connection = True

    def reset(self) -> None:
        """Close now with SO_LINGER 0: the client gets a TCP RST, not a clean end (FIN)."""
        self.hang_up()
        self.handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The socket closes only once its reading file object does; closing both
        # now also keeps socketserver from sending a FIN (shutdown) before the RST.
        self.handler.rfile.close()
        self.handler.connection.close()

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake up at once when the server stops."""
        self.server.stopping.wait(seconds)


class FaultyServer:
    """The server: ``route(path, behaviour)``, ``url(path)``, ``stop()``."""

    def __init__(self, tls: ssl.SSLContext | None = None, delay: float = 0.0, host: str = "127.0.0.1") -> None:
        self.host = host  # a loopback address: 127.0.0.2 plays a public server in the zone tests
        self.delay = delay  # seconds slept before each answer
        self.routes: dict[str, Behaviour] = {}
        self.prefix_routes: dict[str, Behaviour] = {}
        self.requests: list[Request] = []
        self.hits: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.connections = 0
        self.in_flight = 0  # requests being answered now
        self.peak_in_flight = 0  # the most at once since the server started
        self.failures: list[str] = []  # unexpected server-side errors: a bug in a behaviour
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(self, tls, host)
        self.port: int = self._server.server_address[1]
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def route(self, path: str, behaviour: Behaviour) -> str:
        """Answer ``path`` (or every path under it, if it ends with ``/``) with ``behaviour``; returns its URL."""
        (self.prefix_routes if path.endswith("/") else self.routes)[path] = behaviour
        return self.url(path)

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def requests_for(self, path: str) -> list[Request]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def count_sent(self, path: str, count: int) -> None:
        with self._lock:
            self.sent[path] += count

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def _begin(self, handler: _Handler) -> Exchange:
        target = urlsplit(handler.path)
        request = Request(
            time=time.monotonic(),
            method=handler.command,
            path=target.path or "/",
            host=handler.headers.get("Host"),
            range=handler.headers.get("Range"),
            accept_encoding=handler.headers.get("Accept-Encoding"),
        )
        with self._lock:
            self.requests.append(request)
            self.hits[request.path] += 1
            attempt = self.hits[request.path]
        return Exchange(handler, request, attempt)

    def _answering(self, change: int) -> None:
        with self._lock:
            self.in_flight += change
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _behaviour(self, path: str) -> Behaviour:
        if path in self.routes:
            return self.routes[path]
        for prefix, behaviour in self.prefix_routes.items():
            if path.startswith(prefix):
                return behaviour
        return not_found


class _Server(ThreadingMixIn, TCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, faulty: FaultyServer, tls: ssl.SSLContext | None, host: str) -> None:
        self.faulty = faulty
        self.tls = tls
        super().__init__((host, 0), _Handler)

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        # Headers and body go out in separate writes: without this, Nagle and the
        # client's delayed ACK hold every keep-alive answer back 40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.faulty._lock:
            self.faulty.connections += 1
        if self.tls is not None:  # the handshake happens in the connection's thread
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, ssl.SSLError, TimeoutError)):
            self.faulty.failures.append("".join(traceback.format_exception(error)))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def handle(self) -> None:
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                return  # the client refused the certificate: the point of a TLS test
        super().handle()

    def do_GET(self) -> None:
        faulty = self.server.faulty
        exchange = faulty._begin(self)
        faulty._answering(+1)
        try:
            if faulty.delay:
                exchange.sleep(faulty.delay)
            faulty._behaviour(exchange.request.path)(exchange)
        except OSError:  # ConnectionError, ssl.SSLError...
            self.close_connection = True  # the client went away, as behaviours provoke
        finally:
            faulty._answering(-1)

    do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass  # the request log is FaultyServer.requests


_REASONS = {
    200: "OK", 206: "Partial Content", 302: "Found", 404: "Not Found",
    416: "Range Not Satisfiable", 429: "Too Many Requests", 503: "Service Unavailable",
}


# -- behaviours -------------------------------------------------------------------


def not_found(exchange: Exchange) -> None:
    exchange.respond(404, {"Content-Type": "text/html"}, b"<html><body>404 Not Found</body></html>")


def static(data: bytes, content_type: str = "image/jpeg", etag: str | None = None) -> Behaviour:
    """A file served like nginx does: Range honoured (206 + Content-Range), else 200."""
    extra = {"ETag": etag} if etag else {}

    def behaviour(exchange: Exchange) -> None:
        wanted = _RANGE.match(exchange.request.range or "")
        if wanted is None:
            exchange.respond(200, {"Content-Type": content_type, **extra}, data)
            return
        start = int(wanted.group(1))
        if start >= len(data):
            range_not_satisfiable(exchange)
            return
        end = min(int(wanted.group(2) or len(data) - 1), len(data) - 1)
        headers = {"Content-Type": content_type, "Content-Range": f"bytes {start}-{end}/{len(data)}", **extra}
        exchange.respond(206, headers, data[start : end + 1])

    return behaviour


def html(body: bytes) -> Behaviour:
    """A dynamic page: 200 whatever the Range asked."""

    def behaviour(exchange: Exchange) -> None:
        exchange.respond(200, {"Content-Type": "text/html; charset=utf-8"}, body)

    return behaviour


def range_not_satisfiable(exchange: Exchange) -> None:
    """416 for an empty file, with an HTML error body, as nginx sends it."""
    body = b"<html><head><title>416 Requested Range Not Satisfiable</title></head></html>"
    exchange.respond(416, {"Content-Type": "text/html", "Content-Range": "bytes */0"}, body)


def ignore_range(head: bytes, size: int, content_type: str = "image/jpeg") -> Behaviour:
    """200 with the whole ``size``-byte body (``head`` then zeros), streamed until the client leaves.

    The send buffer is pinned small (Linux would grow it to 4 MB on loopback),
    so the bytes counted as sent are what the client's side took in, not what
    this server's kernel queued: the client's own receive buffer remains.
    """

    def behaviour(exchange: Exchange) -> None:
        exchange.hang_up()
        exchange.handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
        exchange.head(200, {"Content-Type": content_type, "Content-Length": str(size)})
        exchange.write(head)
        filler = bytes(_CHUNK)
        while exchange.sent < size:
            exchange.write(filler[: size - exchange.sent])

    return behaviour


def partial(data: bytes, content_range: str | None, content_type: str = "image/jpeg") -> Behaviour:
    """206 with the first 10,240 bytes and the given Content-Range (None: no header at all)."""

    def behaviour(exchange: Exchange) -> None:
        headers = {"Content-Type": content_type}
        if content_range is not None:
            headers["Content-Range"] = content_range
        exchange.respond(206, headers, data[:10240])

    return behaviour


def reset_mid_body(data: bytes, after: int) -> Behaviour:
    """206 promising 10,240 bytes, then a TCP RST after ``after`` of them."""

    def behaviour(exchange: Exchange) -> None:
        exchange.head(206, {
            "Content-Type": "image/jpeg", "Content-Length": "10240",
            "Content-Range": f"bytes 0-10239/{len(data)}",
        })
        exchange.write(data[:after])
        exchange.sleep(0.05)  # let the bytes leave before the RST discards them
        exchange.reset()

    return behaviour


def trickle(data: bytes, interval: float = 1.0) -> Behaviour:
    """206 for the prefix, then one byte every ``interval`` seconds."""

    def behaviour(exchange: Exchange) -> None:
        exchange.hang_up()
        exchange.head(206, {
            "Content-Type": "image/jpeg", "Content-Length": "10240",
            "Content-Range": f"bytes 0-10239/{len(data)}",
        })
        for offset in range(10240):
            if exchange.server.stopping.is_set():
                return
            exchange.write(data[offset : offset + 1])
            exchange.sleep(interval)

    return behaviour


def fail_first(times: int, status: int, then: Behaviour, headers: dict[str, str] | None = None) -> Behaviour:
    """Answer ``status`` to the first ``times`` requests, then behave like ``then``."""

    def behaviour(exchange: Exchange) -> None:
        if exchange.attempt <= times:
            exchange.respond(status, {"Content-Type": "text/html", **(headers or {})}, b"<html>busy</html>")
        else:
            then(exchange)

    return behaviour


def first_then(first: Behaviour, then: Behaviour) -> Behaviour:
    """``first`` for the first request of the path, ``then`` for every later one."""
    return lambda exchange: (first if exchange.attempt == 1 else then)(exchange)


def redirect(location: str) -> Behaviour:
    def behaviour(exchange: Exchange) -> None:
        exchange.respond(302, {"Location": location, "Content-Type": "text/html"}, b"<html>moved</html>")

    return behaviour


def gzipped(compressed: bytes) -> Behaviour:
    """200 with ``Content-Encoding: gzip``, whatever Accept-Encoding said (a gzip bomb)."""

    def behaviour(exchange: Exchange) -> None:
        exchange.hang_up()
        exchange.respond(200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, compressed)

    return behaviour


def gzip_bomb(head: bytes, decoded_size: int) -> bytes:
    """gzip of ``head`` followed by spaces up to ``decoded_size`` bytes, built without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip header and trailer
    parts = [packer.compress(head)]
    block = b" " * (1 << 20)
    remaining = decoded_size - len(head)
    while remaining > 0:
        parts.append(packer.compress(block[: min(remaining, len(block))]))
        remaining -= len(block)
    parts.append(packer.flush())
    return b"".join(parts)


# -- TLS ----------------------------------------------------------------------------


def self_signed_context(folder: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for ``localhost``."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        _self_signed_with_cryptography(cert, key)
    except ImportError:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
             "-days", "1", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _self_signed_with_cryptography(cert_path: Path, key_path: Path) -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
