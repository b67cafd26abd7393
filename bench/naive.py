"""The naive way to fingerprint images, as the benchmark's baseline.

A thread pool; per image a HEAD (for the size) and then a Range GET (for the
prefix), each on a new connection, as a quick script with http.client would
do it. ``--full`` downloads every image whole instead (one GET each).

Usage: ``python bench/naive.py URL_FILE THREADS [--full]``; prints a JSON line
with counts.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

PREFIX = 10240


def _request(url: str, method: str, headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        connection.request(method, parts.path, headers=headers)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def prefix_fingerprint(url: str) -> int:
    head, _ = _request(url, "HEAD", {})
    size = int(head.getheader("Content-Length") or 0)
    _, body = _request(url, "GET", {"Range": f"bytes=0-{PREFIX - 1}"})
    hashlib.sha256(body[:PREFIX]).hexdigest()
    return size


def full_download(url: str) -> int:
    _, body = _request(url, "GET", {})
    hashlib.sha256(body[:PREFIX]).hexdigest()
    return len(body)


def main() -> None:
    urls = open(sys.argv[1]).read().split()
    threads = int(sys.argv[2])
    work = full_download if "--full" in sys.argv[3:] else prefix_fingerprint
    with ThreadPoolExecutor(threads) as pool:
        sizes = list(pool.map(work, urls))
    print(json.dumps({"images": len(sizes), "total_bytes": sum(sizes)}))


if __name__ == "__main__":
    main()
