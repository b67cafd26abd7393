"""Keeping a private Tor network on loopback: a network namespace, and an audit of every socket.

Where the machine allows it, the network's ``tor`` processes (and the crawler
that uses them) run in a network namespace of their own that has nothing but
a loopback interface: a packet to any other address has no route. A child
process (``unshare --net``) holds the namespace open and brings ``lo`` up;
commands enter it with ``nsenter``. Unix sockets live in the file system, not
in the namespace, so the test process still reaches Tor's control and SOCKS
sockets and nginx's socket from outside.

Where no namespace can be made (an unprivileged container), the network runs
on the host's loopback with its private configuration only, and says so. The
holder (started without ``unshare`` then) is also the network's lifeline:
every ``tor`` names it as its owning process, so the network ends when the
process that built it does, however that ends.
Either way :func:`foreign_sockets` reads the kernel's socket tables
(``/proc/PID/net/tcp*``, ``udp*``) and names every socket whose remote end is
not a loopback address.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

_LIFELINE = "import sys; sys.stdin.read()"  # lives until the process that started it closes its stdin
# Run inside the new namespace: bring lo up (SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP),
# print the interfaces, then hold the namespace like a lifeline.
_HOLDER = f"""
import fcntl, socket, struct
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH14s", fcntl.ioctl(sock, 0x8913, struct.pack("16sH14s", b"lo", 0, b"")))[1]
fcntl.ioctl(sock, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b""))
print(",".join(name for _, name in socket.if_nameindex()), flush=True)
{_LIFELINE}
"""


class Namespace:
    """Where the network runs: ``prefix`` is what puts a command there; ``protection`` says what keeps it in."""

    def __init__(self) -> None:
        self.prefix: list[str] = []
        self.protection = "none yet"
        self.holder: subprocess.Popen[str] | None = None

    def enter(self) -> Namespace:
        """Make a loopback-only namespace if this machine allows it, else fall back to the host's loopback."""
        user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        try:
            holder = subprocess.Popen(
                ["unshare", "--net", *user, "--", sys.executable, "-c", _HOLDER],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
        except OSError as exc:  # no unshare at all
            return self._fall_back(str(exc))
        assert holder.stdout is not None and holder.stderr is not None
        interfaces = holder.stdout.readline().strip()
        if interfaces != "lo":
            self._close(holder)
            return self._fall_back(holder.stderr.read().strip() or f"interfaces {interfaces!r}")
        self.holder = holder
        namespace = f"--net=/proc/{holder.pid}/ns/net"
        joined_user = [f"--user=/proc/{holder.pid}/ns/user", "--preserve-credentials"] if user else []
        self.prefix = ["nsenter", *joined_user, namespace, "--"]
        self.protection = "network namespace with loopback only (unshare --net), plus the private configuration"
        return self

    def _fall_back(self, reason: str) -> Namespace:
        self.holder = subprocess.Popen([sys.executable, "-c", _LIFELINE], stdin=subprocess.PIPE, text=True)
        self.protection = f"private configuration only (no network namespace: {reason})"
        return self

    @property
    def isolated(self) -> bool:
        return bool(self.prefix)

    @property
    def owner(self) -> int:
        """The pid every tor watches (``__OwningControllerProcess``). Not the test process's own: stem
        then takes ownership over its first control connection, and closing that would end the tor."""
        assert self.holder is not None
        return self.holder.pid

    def leave(self) -> None:
        if self.holder is not None:
            self._close(self.holder)
            self.holder = None

    @staticmethod
    def _close(holder: subprocess.Popen[str]) -> None:
        if holder.stdin is not None:
            holder.stdin.close()
        try:
            holder.wait(timeout=5)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as /proc/net/{tcp,tcp6} writes it: hex, each 32-bit word in host (little-endian) order."""
    raw = bytes.fromhex(text)
    native = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(native)


def _is_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed since the listing
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def foreign_sockets(pid: int, whole_namespace: bool) -> list[str]:
    """Sockets with a remote end off loopback: of process ``pid``, or of its whole network namespace."""
    try:
        owned = None if whole_namespace else _socket_inodes(pid)
        tables = {name: Path(f"/proc/{pid}/net/{name}").read_text() for name in ("tcp", "tcp6", "udp", "udp6")}
    except (FileNotFoundError, ProcessLookupError):  # the process has ended
        return []
    found = []
    for name, table in tables.items():
        for line in table.splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if owned is not None and inode not in owned:
                continue
            for end in (local, remote):
                host, port = end.rsplit(":", 1)
                if not _is_local(_address(host)):
                    found.append(f"{name} {_address(host)}:{int(port, 16)} (pid {pid})")
    return found
