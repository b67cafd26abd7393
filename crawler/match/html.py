"""``crawler match --html FILE``: one self-contained page a person can browse.

Every group with its evidence, supporting evidence, known-set hits and
members (links to each image URL and page, EXIF highlights). Nothing is
loaded from elsewhere: the style is inline, and thumbnails, when the crawl
kept them (``output.keep_thumbnails``), are embedded as data URIs. Every
value goes through Jinja2's autoescaping, only http(s) URLs become links,
and a Content-Security-Policy forbids scripts, so a hostile page's URL or
EXIF value is shown as text, never run as markup.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from crawler.match.model import Group, Member

_ENV = Environment(loader=PackageLoader("crawler.match", "templates"), autoescape=select_autoescape(default=True))
_MAX_THUMBNAIL = 256 * 1024


def link(url: str | None) -> str | None:
    """``url`` when it is safe as a link target (http or https), else None."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


def thumbnail_uri(output_dir: Path | None, member: Member) -> str | None:
    """A data URI of the member's kept thumbnail, when there is one inside ``output_dir``."""
    if output_dir is None or not member.thumbnail:
        return None
    path = (output_dir / member.thumbnail).resolve()
    if not path.is_relative_to(output_dir.resolve()) or not path.is_file() or path.stat().st_size > _MAX_THUMBNAIL:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()


def render(groups: list[Group], title: str, output_dir: Path | None) -> str:
    template = _ENV.get_template("match.html.j2")
    return template.render(
        groups=groups, title=title, link=link, thumbnail=lambda m: thumbnail_uri(output_dir, m),
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        levels=sorted({g.level for g in groups}), count={lvl: sum(g.level == lvl for g in groups) for lvl in (1, 2, 3)},
    )


def write(groups: list[Group], path: Path, title: str, output_dir: Path | None) -> None:
    path.write_text(render(groups, title, output_dir), encoding="utf-8")
