"""Document -> the terminal: summary lines, rich tables, and the first few names of each list.

The tables and summary come from :mod:`.tables`, as the Markdown report's
do; long lists are cut short here, the report and the JSON hold them whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table as RichTable

from crawler.evaluation.render.tables import (
    Table,
    summary_lines,
    tables,
    variant_tables,
)

if TYPE_CHECKING:
    from crawler.evaluation.document import Document

_TERMINAL_GROUPS, _TERMINAL_PATHS, _TERMINAL_NAMES = 10, 6, 10


def show(document: Document, console: Console) -> None:
    """The summary, the tables, false-positive groups and files not evaluated."""
    for line in summary_lines(document):
        _print(console, line)
    variants = document["variants"]
    for table in tables(document) + (variant_tables(variants) if variants is not None else []):
        console.print(_rich_table(table))
    for name in document["main_methods"]:
        groups = document["methods"][name]["false_positive_groups"]
        _show_list(console, f"False-positive groups of {name}", [_joined(g) for g in groups], _TERMINAL_GROUPS)
    files = document["files"]
    _show_list(console, "Non-image files", files["non_image"], _TERMINAL_NAMES)
    _show_list(console, "Empty files", files["empty"], _TERMINAL_NAMES)
    _show_list(console, "Unreadable", [f"{p['path']}: {p['reason']}" for p in files["unreadable"]], _TERMINAL_NAMES)
    _show_list(console, "Skipped", [f"{p['path']}: {p['reason']}" for p in files["skipped"]], _TERMINAL_NAMES)


def _rich_table(table: Table) -> RichTable:
    rich_table = RichTable(title=table.title, title_justify="left")
    for index, header in enumerate(table.headers):
        rich_table.add_column(header, justify="left" if index == 0 else "right", no_wrap=True)
    for row in table.rows:
        rich_table.add_row(*row)
    return rich_table


def _joined(group: list[str]) -> str:
    more = len(group) - _TERMINAL_PATHS
    return ", ".join(group[:_TERMINAL_PATHS]) + (f" … and {more} more" if more > 0 else "")


def _show_list(console: Console, title: str, items: list[str], limit: int) -> None:
    if not items:
        return
    _print(console, f"{title} ({len(items)}):")
    for item in items[:limit]:
        _print(console, f"  {item}")
    if len(items) > limit:
        _print(console, f"  … and {len(items) - limit} more (see the report)")


def _print(console: Console, text: str) -> None:
    """Print as is: paths may hold [brackets] that rich would read as markup."""
    console.print(text, highlight=False, markup=False)
