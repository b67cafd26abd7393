"""The keys and torrc files of a private Tor network on loopback.

Everything here writes files; nothing starts a network-facing ``tor``. Each
torrc names only this network's authorities (``DirAuthority`` on 127.0.0.1,
``TestingTorNetwork 1``, no default fallback directories), so no ``tor`` of
ours can ever learn of a public relay. The authorities' keys come from
``tor-gencert``; a relay's fingerprint from ``tor --list-fingerprint`` run
with ``DisableNetwork 1``. Voting runs every few seconds (the testing options
chutney uses), which is what lets the network bootstrap in seconds instead of
the half hour a default authority waits.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

VOTING_INTERVAL = 10  # seconds: the shortest cycle chutney calls stable
_VOTE_DELAY = 2  # vote delay + distribution delay must stay under half the interval

_COMMON = """\
TestingTorNetwork 1
UseDefaultFallbackDirs 0
DataDirectory {datadir}
Nickname {nickname}
Log notice file {datadir}/notice.log
SafeLogging 0
LogTimeGranularity 1
ShutdownWaitLength 0
ControlSocket {datadir}/control
CookieAuthentication 1
__OwningControllerProcess {owner}
PathsNeededToBuildCircuits 0.67
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
V3AuthNIntervalsValid 2
ClientUseIPv6 0
"""

_RELAY = """\
Address 127.0.0.1
ORPort 127.0.0.1:{orport}
AssumeReachable 1
ExitRelay 0
ExitPolicy reject *:*
SocksPort 0
"""

_AUTHORITY = f"""\
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
ContactInfo auth@example.invalid
DirPort 127.0.0.1:{{dirport}}
V3AuthVotingInterval {VOTING_INTERVAL}
V3AuthVoteDelay {_VOTE_DELAY}
V3AuthDistDelay {_VOTE_DELAY}
TestingV3AuthInitialVotingInterval 6
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
"""

# ExtendedErrors: Tor's onion-specific SOCKS replies (0xF0-0xF7), which the crawler maps
# to error kinds; IsolateSOCKSAuth (Tor's default, written out): one circuit per credentials.
_CLIENT = """\
SocksPort 127.0.0.1:{socks_port} ExtendedErrors IsolateSOCKSAuth
SocksPort unix:{datadir}/socks ExtendedErrors IsolateSOCKSAuth
"""

_SERVICE = """\
HiddenServiceDir {service_dir}
HiddenServicePort 80 {target}
"""


@dataclass
class Node:
    """One ``tor`` of the network: its name, folder and ports."""

    nickname: str
    datadir: Path
    orport: int = 0
    dirport: int = 0
    fingerprint: str = ""
    v3ident: str = ""
    config: list[str] = field(default_factory=list)

    @property
    def torrc(self) -> Path:
        return self.datadir / "torrc"

    @property
    def control_socket(self) -> Path:
        return self.datadir / "control"

    def dir_authority_line(self) -> str:
        return (
            f"DirAuthority {self.nickname} orport={self.orport} v3ident={self.v3ident} "
            f"127.0.0.1:{self.dirport} {self.fingerprint}"
        )


def make_datadir(path: Path) -> Path:
    """A folder only its owner may read: tor refuses a DataDirectory others can."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _run(command: list[str], stdin: str = "") -> str:
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stdout}{result.stderr}")
    return result.stdout


def generate_authority_keys(node: Node) -> None:
    """The v3 identity, signing key and certificate of an authority (tor-gencert), and its v3ident."""
    keys = make_datadir(node.datadir / "keys")
    _run(
        [
            "tor-gencert", "--create-identity-key", "-m", "12", "-a", f"127.0.0.1:{node.dirport}",
            "-i", str(keys / "authority_identity_key"), "-s", str(keys / "authority_signing_key"),
            "-c", str(keys / "authority_certificate"), "--passphrase-fd", "0",
        ],
        stdin="\n",
    )
    for line in (keys / "authority_certificate").read_text().splitlines():
        if line.startswith("fingerprint "):
            node.v3ident = line.split()[1]
    if not node.v3ident:
        raise RuntimeError(f"no fingerprint in {keys / 'authority_certificate'}")


def generate_relay_keys(node: Node, empty_defaults: Path) -> None:
    """The relay identity keys, made by tor itself; the fingerprint it prints."""
    keygen = node.datadir / "keygen.torrc"
    keygen.write_text(
        f"TestingTorNetwork 1\nDisableNetwork 1\nUseDefaultFallbackDirs 0\nDataDirectory {node.datadir}\n"
        f"Nickname {node.nickname}\nORPort 127.0.0.1:{node.orport}\nAddress 127.0.0.1\nSocksPort 0\n"
        "DirAuthority placeholder orport=1 v3ident=" + "0" * 40 + " 127.0.0.1:1 " + "F" * 40 + "\n"
    )
    output = _run(["tor", "--defaults-torrc", str(empty_defaults), "-f", str(keygen), "--list-fingerprint", "--quiet"])
    words = output.split()
    if len(words) < 2 or words[0] != node.nickname:
        raise RuntimeError(f"tor --list-fingerprint printed {output!r}")
    node.fingerprint = "".join(words[1:])


def authority_config(node: Node) -> str:
    return _RELAY.format(orport=node.orport) + _AUTHORITY.format(dirport=node.dirport)


def relay_config(node: Node) -> str:
    return _RELAY.format(orport=node.orport)


def client_config(node: Node, socks_port: int) -> str:
    return _CLIENT.format(socks_port=socks_port, datadir=node.datadir)


def service_config(node: Node, targets: list[str]) -> str:
    """One onion service (v3, Tor's only kind) per target, each in its own HiddenServiceDir."""
    services = (
        _SERVICE.format(service_dir=make_datadir(node.datadir / f"service{i}"), target=target)
        for i, target in enumerate(targets)
    )
    return "SocksPort 0\n" + "".join(services)


def write_torrc(node: Node, role_config: str, authorities: list[Node], owner: int) -> None:
    common = _COMMON.format(datadir=node.datadir, nickname=node.nickname, owner=owner)
    lines = [common, role_config, *(a.dir_authority_line() + "\n" for a in authorities)]
    node.torrc.write_text("".join(lines))
