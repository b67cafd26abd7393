"""Start the tests' private Tor network standalone, for benchmarks and for trying the crawler by hand.

It serves ``--site DIR`` through nginx (on 127.0.0.1 and behind ``--services``
onion services, v3) on a private network of real ``tor`` processes built by
``tests/support/tor_network.py``: loopback only, in a network namespace where
the machine allows. It prints the onion hosts, the SocksPort and the command
prefix that reaches it (``nsenter ...`` when in a namespace), writes the same
as JSON to ``--info`` if asked, and runs until interrupted (Ctrl-C).

    python bench/tor_network.py --site /path/to/site --services 2 --info net.json
    # then, in another shell:  $(jq -r '.prefix | join(" ")' net.json) crawler crawl urls.txt ...
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.servers import Nginx  # noqa: E402
from tests.support.tor_network import TorNetwork, site_config  # noqa: E402


def describe(network: TorNetwork, nginx: Nginx) -> dict[str, object]:
    return {
        "onion_hosts": network.onion_hosts,
        "socks": network.socks_address,
        "socks_socket": str(network.socks_socket),
        "control_socket": str(network.client.control_socket),
        "prefix": network.command_prefix,
        "direct": nginx.url("/"),
        "protection": network.protection,
        "bootstrap_seconds": round(network.bootstrap_seconds, 1),
        "phases": {name: round(seconds, 1) for name, seconds in network.phases.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=Path, required=True, help="folder nginx serves")
    parser.add_argument("--services", type=int, default=1, help="onion services in front of it (default 1)")
    parser.add_argument("--relays", type=int, default=3, help="relays besides the 3 authorities (default 3)")
    parser.add_argument("--info", type=Path, help="write the network's details here as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tor-network-") as temp:
        work = Path(temp)
        site = args.site.resolve()
        nginx = Nginx(site, work / "nginx", site_config(work / "nginx" / "nginx.sock", site))
        try:
            target = f"unix:{work / 'nginx' / 'nginx.sock'}"
            with TorNetwork(work / "tor", [target] * args.services, relays=args.relays) as network:
                info = json.dumps(describe(network, nginx), indent=2)
                print(info, flush=True)
                if args.info:
                    args.info.write_text(info)
                try:
                    signal.pause()
                except KeyboardInterrupt:
                    pass
        finally:
            nginx.stop()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C: the network and nginx are stopped on the way out
    main()
