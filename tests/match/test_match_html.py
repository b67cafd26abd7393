"""``crawler match --html``: a page that loads in a real browser, shows every group, runs nothing hostile.

Debian's chromium, headless, loads the page from a file and dumps the DOM it
built; the test reads that DOM, not the HTML text, so it checks what a person
would see. Thumbnails appear only when the crawl kept them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from crawler.index.database import connect
from crawler.index.writer import IndexWriter
from crawler.models import ImageRecord
from tests.support import cli_process
from tests.support.index_helpers import make_site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE_URL = 'http://evil.test/"><script>document.title="pwned"</script>.jpg'
HOSTILE_MAKE = "<img src=x onerror=\"document.title='pwned'\">"


def browse(page: Path) -> tuple[BeautifulSoup, str]:
    """The DOM chromium built from ``page``, and what chromium logged."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: apt-get install chromium")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", "--dump-dom", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    assert done.returncode == 0, done.stderr
    return BeautifulSoup(done.stdout, "html.parser"), done.stderr


def test_the_page_shows_every_group_with_kept_thumbnails_and_escapes_hostile_values(
        tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    make_site(tmp_path / "site", corpus)
    server = nginx_factory(tmp_path / "site")
    (tmp_path / "urls.txt").write_text(server.url("/index.html") + "\n" + server.url("/img1.jpg") + "\n")
    (tmp_path / "settings.toml").write_text("[output]\nkeep_thumbnails = true\n")
    done = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "data", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "data" / "thumbnails").glob("*/*.jpg"))
    database = connect(str(tmp_path / "data" / "index.sqlite"))
    hostile: dict[str, Any] = {"status": "ok", "image_size": 99999, "sha256_first_10240_bytes": "f" * 64,
               "exif": {"Image Make": HOSTILE_MAKE}, "page_url": "javascript:document.title='pwned'"}
    IndexWriter(database, "hostile").add([ImageRecord(url=HOSTILE_URL, **hostile),
                                          ImageRecord(url="http://evil.test/2.jpg", **hostile)])
    database.close()
    listed = cli_process.run(tmp_path, "match", "data", "--format", "jsonl", "--html", "report.html")
    assert listed.returncode == 0, listed.stderr
    count = len(listed.stdout.splitlines())
    assert count == 3  # img0 and its copy, img1 on the page and listed, the hostile pair
    dom, log = browse(tmp_path / "report.html")
    assert "Uncaught" not in log and "Refused to" not in log
    assert dom.title is not None and dom.title.string == "Images found more than once"
    groups = dom.select("section.group")
    assert len(groups) == count
    assert [g.h2.get_text() if g.h2 else "" for g in groups][:1] == ["Group 1: identical file (level 1)"]
    assert not dom.find_all("script")
    assert not [a for a in dom.find_all("a") if not str(a["href"]).startswith("http")]
    text = dom.get_text()
    assert HOSTILE_URL in text and HOSTILE_MAKE in text and "javascript:document.title='pwned'" in text
    thumbs = dom.select("img.thumb")
    assert thumbs and all(str(img["src"]).startswith("data:image/jpeg;base64,") for img in thumbs)
    assert len(dom.select("tr.member")) == sum(len(g.select("tr.member")) for g in groups) == 6


def test_no_thumbnail_is_kept_unless_asked(tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    make_site(tmp_path / "site", corpus, count=2)
    server = nginx_factory(tmp_path / "site")
    (tmp_path / "urls.txt").write_text(server.url("/index.html") + "\n")
    done = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "data", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "data" / "thumbnails").exists()
    records = [r for file in cli_process.load_files(tmp_path / "data").values() for r in file]
    assert records and all(r.get("thumbnail_file") is None for r in records)
