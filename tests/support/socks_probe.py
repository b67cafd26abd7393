"""A raw SOCKS5 client for Tor's SocksPort: the exact reply bytes, and v3 onion addresses to ask for.

httpx (through socksio) turns Tor's replies into exceptions, and rejects the
ExtendedErrors codes 0xF0-0xF7 as a malformed reply; the tests and the
benchmark need what Tor actually sent, and how long it took, so this speaks
RFC 1928/1929 by hand over the client's unix SocksPort.
"""

from __future__ import annotations

import base64
import hashlib
import socket
from pathlib import Path


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"the SOCKS port closed the connection after {data.hex()}")
        data += chunk
    return data


def socks_reply(socks_socket: Path, host: str, username: str, password: str = "password", timeout: float = 150) -> bytes:
    """The whole reply to CONNECT host:80 with these credentials; the connection is closed after it."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(timeout)
        sock.connect(str(socks_socket))
        sock.sendall(b"\x05\x01\x02")  # SOCKS5, one method: username/password
        assert _exactly(sock, 2) == b"\x05\x02"
        user, secret = username.encode(), password.encode()
        sock.sendall(b"\x01" + bytes([len(user)]) + user + bytes([len(secret)]) + secret)
        assert _exactly(sock, 2) == b"\x01\x00"
        name = host.encode()
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + (80).to_bytes(2, "big"))
        head = _exactly(sock, 4)  # VER REP RSV ATYP, then the bound address and port
        length = {0x01: 4, 0x04: 16}.get(head[3]) or _exactly(sock, 1)[0]
        return head + _exactly(sock, length + 2)


def tor_reply(code: int) -> bytes:
    """A reply as Tor sends it: the code, then an IPv6 bound address :: and port 0 (22 bytes)."""
    return bytes([0x05, code, 0x00, 0x04]) + bytes(18)


def onion_address(public_key: bytes) -> str:
    """The v3 onion address of an ed25519 public key (rend-spec-v3: key, checksum, version 3)."""
    checksum = hashlib.sha3_256(b".onion checksum" + public_key + b"\x03").digest()[:2]
    return base64.b32encode(public_key + checksum + b"\x03").decode().lower() + ".onion"


def bad_checksum(host: str) -> str:
    """The address with one checksum character changed: the right shape, but Tor must refuse it."""
    position = 52  # characters 52-53 hold the 16-bit checksum's last bits
    return host[:position] + ("a" if host[position] != "a" else "b") + host[position + 1 :]
