"""The crawler's HTTP follow-ups fetch the band's bytes and record the same hash as the harness's replay."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from crawler.fingerprint.compute import fingerprint
from crawler.fingerprint.plan import RangePolicy, replay
from crawler.net.fetch import Fetcher
from crawler.run.follow_up import image_record_for
from crawler.settings import load_settings
from tests.support.mock_http import MockSite, Route

URL = "http://img.test/picture"


def serve(site: MockSite, data: bytes) -> Route:
    def answer(request: httpx.Request) -> httpx.Response:
        found = re.fullmatch(r"bytes=(\d+)-(\d+)", request.headers["Range"])
        assert found is not None
        start, end = int(found[1]), int(found[2])
        body = data[start : end + 1]
        return httpx.Response(206, content=body, headers={"Content-Range": f"bytes {start}-{start + len(body) - 1}/{len(data)}"})

    return site.route(URL, answer)


def record_for(site: MockSite, data: bytes, **overrides: Any) -> Any:
    settings = load_settings(None, {"retries.attempts": 1, **overrides})

    async def go() -> Any:
        async with Fetcher(settings, transport=site.transport) as fetcher:
            response = await fetcher.fetch_image(URL)
            return await image_record_for(fetcher, URL, None, response, settings)

    return asyncio.run(go())


@pytest.fixture
def site() -> MockSite:
    return MockSite()


@pytest.fixture(scope="module")
def png(corpus: Path) -> bytes:
    """A web-size PNG of a real photo (a camera JPEG from the samples, scaled to 500 px wide)."""
    with Image.open(corpus / "jpeg" / "FujiFilm_FinePixS1Pro_1.jpg") as photo:
        picture = photo.convert("RGB")
    picture = picture.resize((500, round(500 * picture.height / picture.width)))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def test_the_crawler_records_the_band_hash_of_a_png(site: MockSite, png: bytes) -> None:
    route = serve(site, png)
    record = record_for(site, png)
    expected = fingerprint(png[:10240], layout=replay(png, RangePolicy()).layout)
    assert record.perceptual_hash_source == "top_band_8:png"
    assert record.perceptual_hash == expected.perceptual_hash is not None
    assert record.range_requests == route.call_count - 1 >= 1  # the band lies past the prefix
    assert 10240 < record.bytes_fetched <= 262144


def test_the_byte_cap_holds_for_the_band(site: MockSite, png: bytes) -> None:
    serve(site, png)
    record = record_for(site, png, **{"fingerprint.max_bytes_per_image": 12288})
    assert record.bytes_fetched <= 12288 and record.perceptual_hash is None


def test_whole_file_bytes_comes_from_the_settings(site: MockSite, png: bytes) -> None:
    webp = io.BytesIO()
    Image.open(io.BytesIO(png)).save(webp, "WEBP", quality=80)
    data = webp.getvalue()
    assert 10240 < len(data) <= 65536
    serve(site, data)
    small = {"fingerprint.min_image_bytes": 0}  # a web-size WebP may be under the default minimum
    assert record_for(site, data, **small).perceptual_hash_source == "top_band_8:webp"
    assert record_for(site, data, **small, **{"fingerprint.whole_file_bytes": 0}).perceptual_hash is None
