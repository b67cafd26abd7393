#!/usr/bin/env bash
# Debian packages the integration tests start on loopback: nginx, Apache, PostgreSQL,
# tor (a private test network only), Chromium (headless, for the HTML report).
#
# Installing tor, apache2 or postgresql normally starts their system services; the
# tests never use those, and Tor's default service would contact the public Tor
# network. So services are kept from starting during the install (policy-rc.d, the
# Debian mechanism that invoke-rc.d and deb-systemd-invoke obey), and the file is
# removed afterwards unless it was already there.
set -euo pipefail
as_root=$(command -v sudo || true)
policy=/usr/sbin/policy-rc.d
placed=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# placed by crawler tests/install-deps.sh: no service starts during this install\nexit 101\n' \
        | $as_root tee "$policy" >/dev/null
    $as_root chmod 755 "$policy"
    placed=1
fi
cleanup() { if [ "$placed" = 1 ]; then $as_root rm -f "$policy"; fi; }
trap cleanup EXIT
$as_root apt-get update -q
$as_root apt-get install -y -q --no-install-recommends \
    nginx-light apache2 tor postgresql chromium iproute2 >/dev/null
