"""What a person sees on the terminal: a live progress line and the summary.

Only the CLI uses this module; the library reports through :class:`Stats`.
Everything goes to standard error, so standard output stays clean for pipes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from crawler.run.stats import Stats

_stderr = Console(stderr=True, highlight=False)


@contextmanager
def progress(stats: Stats, enabled: bool = True) -> Iterator[None]:
    """Show a live status line while the block runs (on a terminal only)."""
    if not (enabled and _stderr.is_terminal):
        yield
        return
    with Live(get_renderable=lambda: _status_line(stats), console=_stderr, refresh_per_second=4, transient=True):
        yield


def _status_line(stats: Stats) -> Text:
    finished = stats.done + stats.resumed
    return Text(
        f"listed {finished}/{stats.listed}  pages {stats.pages}  images {stats.images_found}  "
        f"ok {stats.fingerprinted}  skipped {stats.skipped}  errors {sum(stats.errors.values())}  "
        f"{_size(stats.bytes_fetched)} fetched"
    )


def print_summary(stats: Stats, output: Path | str, interrupted: bool) -> None:
    title = "interrupted: rerun the same command to resume" if interrupted else "crawl finished"
    rows = [*summary_rows(stats), ("output", str(output))]
    if stats.processes > 1:
        rows.insert(0, ("processes", str(stats.processes)))
    _stderr.print(table_of(rows, title))


def summary_rows(stats: Stats) -> list[tuple[str, str]]:
    """The summary's figures, name and value: a crawl's, a queue worker's, a queued run's."""
    return [
        ("listed URLs", f"{stats.listed} ({stats.done} done now, {stats.resumed} done before)"),
        ("pages", f"{stats.pages} ({stats.pages_truncated} cut at the size cap)"),
        ("images found", f"{stats.images_found} ({stats.images_capped} over the per-page cap)"),
        ("fingerprinted", str(stats.fingerprinted)),
        ("skipped", str(stats.skipped)),
        ("errors", _errors(stats)),
        ("bytes downloaded", f"{_size(stats.bytes_fetched)} for images totalling {_size(stats.image_bytes_total)}"),
    ]


def table_of(rows: list[tuple[str, str]], title: str | None = None) -> Table:
    table = Table(title=title, show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for name, value in rows:
        table.add_row(name, value)
    return table


def _errors(stats: Stats) -> str:
    total = sum(stats.errors.values())
    if not total:
        return "0"
    kinds = ", ".join(f"{kind} {count}" for kind, count in stats.errors.most_common())
    return f"{total} ({kinds})"


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    value = count / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
