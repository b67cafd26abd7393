"""A private Tor network on loopback, built from Debian's ``tor``: what onion crawling meets for real.

Tor's own developers test onion services on a network of real ``tor``
processes on one machine (chutney); this does the same for the tests and
benchmarks: three directory authorities that are also relays, a few more
relays, one ``tor`` hosting onion services (v3) in front of a given target,
and one client whose SocksPort the crawler uses (``ExtendedErrors``,
``IsolateSOCKSAuth``). Every torrc names only these authorities
(``tests/support/torrc.py``); the processes run in a loopback-only network
namespace where the machine allows (``tests/support/netns.py``), and a
background audit of their sockets records anything that is not loopback.

Readiness is Tor's own word, read on its control sockets with stem: the
service and the client start once an authority's consensus lists every relay,
then the client's bootstrap reaches 100 % and it fetches every service's
descriptor (``HSFETCH`` answered by an ``HS_DESC RECEIVED`` event). No sleeps.

Use :class:`TorNetwork` directly (``start()`` / ``stop()``, or ``with``), or
the session fixture :func:`tor_network`, which serves the test site from
:func:`onion_site` through nginx and two onion services.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

import pytest
import stem  # type: ignore[import-untyped]  # stem ships no type hints
from stem import Signal
from stem.control import Controller, EventType  # type: ignore[import-untyped]
from stem.response.events import HSDescEvent  # type: ignore[import-untyped]

from tests.support import torrc
from tests.support.netns import Namespace, foreign_sockets
from tests.support.servers import Nginx, free_port
from tests.support.sites import BASED, INDEX
from tests.support.sites import IMAGES as SAMPLES
from tests.support.torrc import Node, make_datadir


class TorNetwork:
    """The network: ``start()`` builds and waits for it, ``stop()`` ends every process it started."""

    def __init__(self, workdir: Path, targets: list[str], authorities: int = 3, relays: int = 3) -> None:
        self.workdir = make_datadir(workdir)
        self.targets = targets  # one onion service per target: "unix:/path" or "127.0.0.1:PORT"
        self.namespace = Namespace()
        self.socks_port = free_port()
        self.authorities = [self._node(f"auth{i}", dirport=free_port()) for i in range(authorities)]
        self.relays = [self._node(f"relay{i}") for i in range(relays)]
        self.client = Node("client", make_datadir(self.workdir / "client"))
        self.service = Node("service", make_datadir(self.workdir / "service"))
        self.onion_hosts: list[str] = []
        self.bootstrap_seconds = 0.0
        self.phases: dict[str, float] = {}  # seconds spent: keys, full consensus, client bootstrap, descriptors
        self.foreign: set[str] = set()  # sockets seen with an end off loopback
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._controllers: list[Controller] = []
        self._stopping = threading.Event()
        self._auditor: threading.Thread | None = None

    def _node(self, nickname: str, dirport: int = 0) -> Node:
        return Node(nickname, make_datadir(self.workdir / nickname), orport=free_port(), dirport=dirport)

    # -- what users of the network need ---------------------------------------

    @property
    def socks_address(self) -> str:
        """HOST:PORT of the client's SocksPort, as ``tor.proxies`` takes it (reachable inside ``command_prefix``)."""
        return f"127.0.0.1:{self.socks_port}"

    @property
    def socks_socket(self) -> Path:
        """The same SocksPort as a unix socket, reachable from the test process in every mode."""
        return self.client.datadir / "socks"

    @property
    def command_prefix(self) -> list[str]:
        """Put before a command to run it where the SocksPort is: inside the namespace, if there is one."""
        return list(self.namespace.prefix)

    @property
    def protection(self) -> str:
        return self.namespace.protection

    def controller(self, node: Node | None = None) -> Controller:
        """An authenticated stem controller of the client (or ``node``); closed by ``stop()``."""
        control = Controller.from_socket_file(str((node or self.client).control_socket))
        control.authenticate()
        self._controllers.append(control)
        return control

    def add_service(self, target: str, timeout: float = 120.0) -> tuple[str, str]:
        """One more ``tor`` with one onion service in front of ``target``, published and fetched by the
        client: (its onion host, its name for :meth:`kill`). Its own process, so that it can vanish."""
        node = Node(f"extra{len(self._processes)}", make_datadir(self.workdir / f"extra{len(self._processes)}"))
        torrc.write_torrc(node, torrc.service_config(node, [target]), self.authorities, self.namespace.owner)
        self._launch(node)
        deadline = time.monotonic() + timeout
        host = self._read_hostnames(node, 1, deadline)[0]
        self._fetch_descriptors([host], deadline)
        return host, node.nickname

    def kill(self, name: str) -> None:
        """End one ``tor`` at once (SIGKILL): its relays see its connections drop, as when a machine dies."""
        self._processes[name].kill()
        self._processes[name].wait()

    def process_ids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self._processes.items() if process.poll() is None}

    # -- building and stopping ----------------------------------------------------

    def start(self, timeout: float = 180.0) -> TorNetwork:
        for command in ("tor", "tor-gencert"):
            if shutil.which(command) is None:
                raise RuntimeError(f"{command} is not installed: apt-get install tor (tor-gencert is in the same package)")
        started = time.monotonic()
        self.namespace.enter()
        try:
            self._write_configuration()
            self.phases["keys and torrcs"] = time.monotonic() - started
            for node in [*self.authorities, *self.relays]:
                self._launch(node)
            self._auditor = threading.Thread(target=self._audit_loop, daemon=True)
            self._auditor.start()
            self._wait_for_full_consensus(started + timeout)
            self.phases["consensus with every relay"] = time.monotonic() - started - self.phases["keys and torrcs"]
            self._launch(self.service)
            self._launch(self.client)
            self.onion_hosts = self._read_hostnames(self.service, len(self.targets), started + timeout)
            self._wait_until_ready(started + timeout)
        except BaseException:
            self.stop()
            raise
        self.bootstrap_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._auditor is not None:
            self._auditor.join(timeout=5)
        self._audit()
        for control in self._controllers:
            control.close()
        for process in self._processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self._processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.namespace.leave()

    def __enter__(self) -> TorNetwork:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _write_configuration(self) -> None:
        empty = self.workdir / "empty-defaults.torrc"
        empty.write_text("")  # tor reads no /etc/tor/torrc-defaults of the Debian package
        with ThreadPoolExecutor() as pool:  # key generation is seconds of CPU per node: use every core
            jobs = [pool.submit(torrc.generate_authority_keys, node) for node in self.authorities]
            jobs += [pool.submit(torrc.generate_relay_keys, node, empty) for node in self.authorities]  # relays: at start
            for job in jobs:
                job.result()
        owner = self.namespace.owner  # every tor ends itself when the lifeline is gone
        for node in self.authorities:
            torrc.write_torrc(node, torrc.authority_config(node), self.authorities, owner)
        for node in self.relays:
            torrc.write_torrc(node, torrc.relay_config(node), self.authorities, owner)
        torrc.write_torrc(self.client, torrc.client_config(self.client, self.socks_port), self.authorities, owner)
        torrc.write_torrc(self.service, torrc.service_config(self.service, self.targets), self.authorities, owner)

    def _launch(self, node: Node) -> None:
        with (node.datadir / "stdout.log").open("wb") as log:
            self._processes[node.nickname] = subprocess.Popen(
                [*self.namespace.prefix, "tor", "--defaults-torrc", str(self.workdir / "empty-defaults.torrc"),
                 "-f", str(node.torrc)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )

    # -- waiting on Tor's own status -------------------------------------------

    def _check_alive(self) -> None:
        for name, process in self._processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"tor {name} exited ({process.returncode}):\n{self.log_tail(name)}")

    def _read_hostnames(self, node: Node, count: int, deadline: float) -> list[str]:
        files = [node.datadir / f"service{i}" / "hostname" for i in range(count)]
        while not all(path.exists() for path in files):
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the onion service wrote no hostname:\n{self.log_tail(node.nickname)}")
            time.sleep(0.05)  # tor writes the files within its first second; nothing to subscribe to
        return [path.read_text().strip() for path in files]

    def _connect(self, node: Node, deadline: float) -> Controller:
        """The node's controller, once its control socket accepts (the file appears just before it does)."""
        while True:
            self._check_alive()
            try:
                return self.controller(node)
            except stem.SocketError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"tor {node.nickname} opened no control socket:\n{self.log_tail(node.nickname)}")
                time.sleep(0.05)

    def _wait_for_full_consensus(self, deadline: float) -> None:
        """Until an authority's consensus lists every relay. A client started earlier samples its guards
        from a consensus of one or two relays and builds paths that end where they began, which fail
        until its next guard sample: a minute or more."""
        control = self._connect(self.authorities[0], deadline)
        expected = len(self.authorities) + len(self.relays)
        while True:
            try:
                consensus = control.get_info("dir/status-vote/current/consensus")
            except stem.ControllerError:  # no consensus yet
                consensus = ""
            if sum(line.startswith("r ") for line in consensus.splitlines()) >= expected:
                break
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"no consensus with all {expected} relays in time:\n{self.log_tail('auth0')}")
            time.sleep(0.5)  # a new consensus comes every voting interval; GETINFO is how to ask for it
        control.close()

    def _wait_until_ready(self, deadline: float) -> None:
        control = self._connect(self.client, deadline)
        started = time.monotonic()
        while "PROGRESS=100" not in control.get_info("status/bootstrap-phase"):
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the client did not bootstrap in time:\n{self.log_tail('client')}")
            time.sleep(0.2)  # polling Tor's own bootstrap status, which has no event of its own worth the parsing
        self.phases["client bootstrap"] = time.monotonic() - started
        self._fetch_descriptors(self.onion_hosts, deadline)
        self.phases["descriptors"] = time.monotonic() - started - self.phases["client bootstrap"]

    def _fetch_descriptors(self, hosts: list[str], deadline: float) -> None:
        """Have the client fetch each service's descriptor (HSFETCH) until it has it: proof it is published."""
        control = self.controller()
        events: queue.Queue[HSDescEvent] = queue.Queue()
        control.add_event_listener(events.put, EventType.HS_DESC)
        for address in (host.removesuffix(".onion") for host in hosts):
            while True:
                control.msg(f"HSFETCH {address}")
                event = None
                while event is None or event.address != address or event.action not in ("RECEIVED", "FAILED"):
                    event = self._wait_step(events, deadline, f"no descriptor for {address}.onion")
                if event.action == "RECEIVED":
                    break
                control.signal(Signal.NEWNYM)  # forget the failure, so the next HSFETCH asks the HSDirs again
        control.close()

    def _wait_step(self, events: queue.Queue[HSDescEvent], deadline: float, failure: str) -> HSDescEvent | None:
        """One event (or a second without one), failing if a tor died or time ran out."""
        self._check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{failure} in time:\n{self.log_tail('client')}\n{self.log_tail('service')}")
        try:
            return events.get(timeout=1.0)
        except queue.Empty:
            return None

    # -- the loopback audit and the logs -----------------------------------------

    def _audit(self) -> None:
        for pid in self.process_ids().values():
            self.foreign.update(foreign_sockets(pid, whole_namespace=False))
        if self.namespace.isolated and self.namespace.holder is not None:
            self.foreign.update(foreign_sockets(self.namespace.holder.pid, whole_namespace=True))

    def _audit_loop(self) -> None:
        while not self._stopping.wait(0.5):
            self._audit()

    def log_tail(self, nickname: str, lines: int = 15) -> str:
        folder = self.workdir / nickname
        log = folder / "notice.log" if (folder / "notice.log").exists() else folder / "stdout.log"  # a bad torrc
        text = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else ["(no log)"]
        return f"--- {nickname} ---\n" + "\n".join(text)


# -- pytest fixtures (import them into a test module: ``from tests.support.tor_network import ...``) --

SLOW_RATE = "8k"  # bytes per second per connection under /slow/: an image takes over a second to come


def site_config(socket_path: Path, root: Path) -> str:
    """nginx's extra config: the onion services' unix socket, and /slow/ serving the same files throttled."""
    return f"listen unix:{socket_path};\n        location /slow/ {{ alias {root}/; limit_rate {SLOW_RATE}; }}"


@pytest.fixture(scope="session")
def onion_site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    """The nginx integration test's site (same files, same pages), built once for the session."""
    root = tmp_path_factory.mktemp("onion-site")
    for served, source in SAMPLES.items():
        (root / served).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / source, root / served)
    (root / "index.html").write_text(INDEX)
    (root / "based.html").write_text(BASED)
    return root


@pytest.fixture(scope="session")
def onion_nginx(tmp_path_factory: pytest.TempPathFactory, onion_site: Path) -> Iterator[Nginx]:
    """nginx serving the site on 127.0.0.1 (direct) and on a unix socket (behind the onion services)."""
    state = tmp_path_factory.mktemp("onion-nginx")
    server = Nginx(onion_site, state, site_config(state / "nginx.sock", onion_site))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tor_network(tmp_path_factory: pytest.TempPathFactory, onion_nginx: Nginx) -> Iterator[TorNetwork]:
    """The private network with two onion services in front of ``onion_nginx``; bootstrapped once a session."""
    target = f"unix:{onion_nginx.state / 'nginx.sock'}"
    network = TorNetwork(tmp_path_factory.mktemp("tor"), [target, target]).start()
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in network.phases.items())
    print(f"\nprivate Tor network ready in {network.bootstrap_seconds:.1f} s ({phases}); protection: {network.protection}")
    yield network
    network.stop()
    assert not network.foreign, f"sockets off loopback: {sorted(network.foreign)}"
