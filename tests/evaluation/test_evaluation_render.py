"""The result document and its forms: the JSON holds exactly the declared shape, and every form agrees.

The TypedDicts of :mod:`crawler.evaluation.document` are what mypy checks the
builder and the renderers against; here the JSON actually written is checked
against them, key for key and type for type, so the declared shape is the
real one. The Markdown report and the terminal must show the same tables and
must be drawn from the JSON alone (a report can be rendered again from it).
"""

from __future__ import annotations

import io
import json
import types
import typing
from typing import Any, Literal

import pytest
from rich.console import Console

from crawler.evaluation.document import Document, to_document
from crawler.evaluation.harness import VariantOptions, evaluate
from crawler.evaluation.hashing import HashParams
from crawler.evaluation.render import show, to_json, to_markdown
from crawler.evaluation.render.tables import Table, tables, variant_tables
from tests.support import variant_corpus
from tests.support.evaluation_corpus import write_corpus


@pytest.fixture(scope="module")
def with_variants(tmp_path_factory: pytest.TempPathFactory) -> Document:
    root = variant_corpus.write(tmp_path_factory.mktemp("pictures"))
    return to_document(evaluate(root, HashParams(), workers=2, variants=VariantOptions(sample=3)))


@pytest.fixture(scope="module")
def without_variants(tmp_path_factory: pytest.TempPathFactory) -> Document:
    return to_document(evaluate(write_corpus(tmp_path_factory.mktemp("corpus")), HashParams(), workers=2))


def shape_errors(value: Any, declared: Any, where: str = "document") -> list[str]:
    """Where ``value`` (loaded from JSON) differs from the type ``declared`` for it."""
    if typing.is_typeddict(declared):
        fields = typing.get_type_hints(declared)
        errors = [] if set(value) == set(fields) else [f"{where}: keys differ by {sorted(set(value) ^ set(fields))}"]
        common = fields.keys() & value.keys()
        return errors + [e for key in common for e in shape_errors(value[key], fields[key], f"{where}.{key}")]
    origin, arguments = typing.get_origin(declared), typing.get_args(declared)
    if origin is types.UnionType:
        if value is None:
            return [] if type(None) in arguments else [f"{where}: null"]
        [inner] = [argument for argument in arguments if argument is not type(None)]
        return shape_errors(value, inner, where)
    if origin is list:
        return [e for index, item in enumerate(value) for e in shape_errors(item, arguments[0], f"{where}[{index}]")]
    if origin is dict:
        return [e for key, item in value.items() for e in shape_errors(item, arguments[1], f"{where}.{key}")]
    if origin is Literal:
        return [] if value in arguments else [f"{where}: {value!r} not in {arguments}"]
    accepted = (int, float) if declared is float else declared  # the median of an odd count is an int
    ok = isinstance(value, accepted) and not isinstance(value, bool)
    return [] if ok else [f"{where}: {value!r} is not {declared.__name__}"]


def terminal(document: Document) -> str:
    out = io.StringIO()
    show(document, Console(file=out, width=250))
    return out.getvalue()


def all_tables(document: Document) -> list[Table]:
    variants = document["variants"]
    return tables(document) + (variant_tables(variants) if variants is not None else [])


def test_the_shape_check_finds_a_wrong_key_and_a_wrong_type(without_variants: Document) -> None:
    loaded = json.loads(to_json(without_variants))
    loaded["counts"]["image_evaluated"] = loaded["counts"].pop("images_evaluated")
    loaded["sweep"]["lengths"][0] = "256"
    assert sorted(shape_errors(loaded, Document)) == [
        "document.counts: keys differ by ['image_evaluated', 'images_evaluated']",
        "document.sweep.lengths[0]: '256' is not int",
    ]


@pytest.mark.parametrize("name", ["with_variants", "without_variants"])
def test_the_json_written_has_exactly_the_declared_shape(name: str, request: pytest.FixtureRequest) -> None:
    document: Document = request.getfixturevalue(name)
    assert (document["variants"] is None) == (name == "without_variants")
    assert shape_errors(json.loads(to_json(document)), Document) == []


@pytest.mark.parametrize("name", ["with_variants", "without_variants"])
def test_every_form_is_drawn_from_the_json_alone(name: str, request: pytest.FixtureRequest) -> None:
    document: Document = request.getfixturevalue(name)
    loaded = json.loads(to_json(document))
    assert to_markdown(loaded) == to_markdown(document)
    assert terminal(loaded) == terminal(document)


@pytest.mark.parametrize("name", ["with_variants", "without_variants"])
def test_markdown_and_terminal_show_the_same_tables_in_order(name: str, request: pytest.FixtureRequest) -> None:
    document: Document = request.getfixturevalue(name)
    markdown, shown = to_markdown(document), terminal(document)
    titles = [table.title for table in all_tables(document)]
    assert len(titles) == (8 if document["variants"] is not None else 5)
    assert sorted(titles, key=markdown.index) == titles == sorted(titles, key=shown.index)
    for table in all_tables(document):
        for row in table.rows:
            assert "| " + " | ".join(row) + " |" in markdown
            assert all(cell in shown for cell in row)
