"""``crawler eval`` through argparse: exit codes, terminal tables, report files."""

from __future__ import annotations

import argparse
import json
import tarfile
from pathlib import Path

import pytest

from crawler.evaluation.command import add_arguments, report_paths, run
from crawler.settings import Settings, load_settings
from tests.support import variant_corpus
from tests.support.evaluation_corpus import (
    EXPECTED_COUNTS,
    EXPECTED_METHODS,
    write_corpus,
    write_tar,
)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="crawler eval")
    add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


def test_report_files_and_terminal_table(corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "out" / "corpus"
    assert run(parse(str(corpus_dir), "--report", str(base), "--no-progress"), Settings()) == 0
    document = json.loads(base.with_name("corpus.json").read_text())
    assert document["counts"] == EXPECTED_COUNTS
    assert document["corpus"] == str(corpus_dir) and document["source"] == "directory"
    for method, (predicted, tp, fp, fn) in EXPECTED_METHODS.items():
        m = document["methods"][method]
        counts = (m["predicted_pairs"], m["true_positives"], m["false_positives"], m["false_negatives"])
        assert counts == (predicted, tp, fp, fn)
    assert document["files"]["empty"] == ["gamma/empty.jpg"]
    markdown = base.with_name("corpus.md").read_text()
    assert "| prefix_sha256_10240+size | 5 | 4 | 1 | 0 | 0.8000 | 1.0000 |" in markdown
    assert "`alpha/near_same_size_a.jpg`, `beta/near_same_size_b.jpg`" in markdown
    out = capsys.readouterr().out
    assert "prefix_sha256_10240+size" in out and "images evaluated: 24" in out
    assert "alpha/near_other_size_a.jpg, gamma/near_other_size_b.jpg" in out


def test_tar_through_the_command(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "images.tar")
    assert run(parse(str(archive), "--report", str(tmp_path / "r.json"), "--no-progress"), Settings()) == 0
    assert json.loads((tmp_path / "r.json").read_text())["source"] == "tar"
    assert (tmp_path / "r.md").exists()


def test_settings_change_the_minimum_size(corpus_dir: Path, tmp_path: Path) -> None:
    settings = load_settings(None, {"fingerprint.min_image_bytes": 0})
    assert run(parse(str(corpus_dir), "--report", str(tmp_path / "r"), "--no-progress"), settings) == 0
    counts = json.loads((tmp_path / "r.json").read_text())["counts"]
    assert counts["images_evaluated"] == 28 and counts["excluded_under_min_size"] == 0


def test_sweep_option(corpus_dir: Path, tmp_path: Path) -> None:
    args = parse(str(corpus_dir), "--sweep", "12288,256", "--report", str(tmp_path / "r"), "--workers", "1")
    assert args.sweep == (256, 12288)
    assert run(args, Settings()) == 0
    sweep = json.loads((tmp_path / "r.json").read_text())["sweep"]
    assert sweep == {"lengths": [256, 12288], "shortest_without_false_positive": 12288}


def test_min_image_bytes_option_overrides_the_settings(corpus_dir: Path, tmp_path: Path) -> None:
    args = parse(str(corpus_dir), "--min-image-bytes", "10000", "--report", str(tmp_path / "r"), "--no-progress")
    assert run(args, Settings()) == 0
    counts = json.loads((tmp_path / "r.json").read_text())["counts"]
    assert counts["images_evaluated"] == 27 and counts["excluded_under_min_size"] == 1


@pytest.mark.parametrize(
    "bad",
    [["--sweep", "0"], ["--sweep", "a,b"], ["--workers", "0"], ["--min-image-bytes", "-1"],
     ["--content-sweep", "0"], ["--variants-sample", "0"]],
)
def test_bad_options_are_refused(bad: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse("somewhere", *bad)


def test_missing_or_unusable_source_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(parse(str(tmp_path / "missing")), Settings()) == 2
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a tar")
    assert run(parse(str(text_file)), Settings()) == 2
    assert "not a directory or a tar archive" in capsys.readouterr().err


def no_images(root: Path) -> Path:
    """A folder of what the crawler does not fingerprint: text, an empty file, a JPEG under 20,480 bytes."""
    (root / "sub").mkdir(parents=True)
    (root / "notes.txt").write_text("not an image")
    (root / "sub" / "empty.jpg").write_bytes(b"")
    (root / "sub" / "small.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(5000))
    return root


@pytest.mark.parametrize("variants", [[], ["--variants"]])
def test_a_source_without_images_exits_2_and_says_what_it_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], variants: list[str]
) -> None:
    source = no_images(tmp_path / "source")
    report = tmp_path / "r"
    assert run(parse(str(source), "--report", str(report), "--no-progress", *variants), Settings()) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"crawler eval: {source}: no image to evaluate "
        "(3 files: 1 non-image, 1 under 20,480 bytes, see --min-image-bytes, 1 empty)\n"
    )
    assert captured.out == "" and not report.with_name("r.json").exists() and not report.with_name("r.md").exists()


def test_an_empty_folder_or_tar_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    with tarfile.open(tmp_path / "empty.tar", "w"):
        pass
    for source in (tmp_path / "empty", tmp_path / "empty.tar"):
        assert run(parse(str(source), "--no-progress"), Settings()) == 2
        assert capsys.readouterr().err == f"crawler eval: {source}: no image to evaluate (0 files)\n"


def test_one_image_is_enough_to_evaluate(tmp_path: Path) -> None:
    source = no_images(tmp_path / "source")
    args = parse(str(source), "--min-image-bytes", "0", "--report", str(tmp_path / "r"), "--no-progress")
    assert run(args, Settings()) == 0
    assert json.loads((tmp_path / "r.json").read_text())["counts"]["images_evaluated"] == 1


def test_unwritable_report_exits_1(corpus_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run(parse(str(corpus_dir), "--report", str(blocker / "r")), Settings()) == 1


@pytest.mark.parametrize(
    ("given", "markdown", "json_name"),
    [("res/dogs", "res/dogs.md", "res/dogs.json"), ("dogs.v2", "dogs.v2.md", "dogs.v2.json"),
     ("x/r.json", "x/r.md", "x/r.json"), ("x/r.MD", "x/r.MD", "x/r.json")],
)
def test_report_paths(given: str, markdown: str, json_name: str) -> None:
    assert report_paths(Path(given)) == (Path(markdown), Path(json_name))


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return variant_corpus.write(tmp_path_factory.mktemp("pictures"))


def test_variants_sample_and_kept_folder(pictures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kept = tmp_path / "variants"
    args = parse(str(pictures), "--variants-sample", "2", "--variants-dir", str(kept), "--report", str(tmp_path / "r"))
    assert run(args, Settings()) == 0
    document = json.loads((tmp_path / "r.json").read_text())
    variants = document["variants"]
    assert variants["originals"] == 2
    assert variants["variants"] == len([p for p in kept.rglob("*") if p.is_file()]) > 0
    assert set(variants["kinds"]) == {"stripped", "exif_edited", "comment_added", "resaved", "resized",
                                      "resized_new_thumbnail", *variant_corpus.WEB_KINDS}
    assert set(variants["web"]["kinds"]) == {"original", *variant_corpus.WEB_KINDS}
    markdown = (tmp_path / "r.md").read_text()
    assert "## Variant sets: recall per kind" in markdown and "| content_sha256 |" in markdown
    assert "## Web perceptual fingerprint (top band, T = 7)" in markdown
    assert "Variant sets: recall per kind" in capsys.readouterr().out


def test_without_variants_the_report_has_none(pictures: Path, tmp_path: Path) -> None:
    assert run(parse(str(pictures), "--report", str(tmp_path / "r"), "--content-sweep", "512"), Settings()) == 0
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["variants"] is None
    assert document["content_sweep"]["lengths"] == [512, 4096]  # the settings' K is always swept
    assert document["perceptual"] == {"thresholds": [0, 4, 8, 10], "default_threshold": 8, "images_with_hash": 4}
    assert document["bytes_per_image"]["adaptive"]["max"] > document["bytes_per_image"]["fixed_prefix"]["max"]


def test_variants_dir_must_be_empty(pictures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    assert run(parse(str(pictures), "--variants-dir", str(tmp_path / "full")), Settings()) == 2
    assert "not an empty folder" in capsys.readouterr().err
