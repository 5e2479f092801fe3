"""The library as a Python user meets it (issue 14, item 15): `dir()` and `help()` show the API,
reprs are one line, `run.tags` is a property, and `read_scalars(tags=...)` keeps only those tags."""

from __future__ import annotations

import pydoc

import logan
from tests.conftest import SAMPLES

PLATEAU = SAMPLES / "mmengine_plateau_e4"


def test_dir_and_help_show_the_public_api():
    names = dir(logan)
    for name in ("analyze", "load_run", "read_scalars", "Run", "Finding", "Severity"):
        assert name in names
    for noise in ("Any", "TYPE_CHECKING", "annotations"):
        assert noise not in names
    text = pydoc.render_doc(logan, renderer=pydoc.plaintext)
    for call in ("analyze(", "load_run(", "read_scalars("):
        assert call in text


def test_reprs_are_one_short_line():
    run = logan.load_run(PLATEAU)
    analysis = logan.analyze(PLATEAU)
    for obj in (run, analysis, analysis.results[0]):
        text = repr(obj)
        assert "\n" not in text and len(text) < 200, text
    assert repr(analysis) == "Analysis(runs=1, findings=1, problems=0)"
    assert repr(analysis.results[0]) == f"RunResult(path={str(PLATEAU)!r}, findings=['LR001'])"


def test_tags_is_a_property():
    run = logan.load_run(PLATEAU)
    assert run.tags == ["data_time", "loss", "lr", "time"]


def test_read_scalars_keeps_only_the_tags_asked_for():
    table = logan.read_scalars(PLATEAU, tags=["lr"])
    assert set(table["tag"]) == {"lr"}
    assert list(table["tag"].cat.categories) == ["lr"]
    assert table.groupby("tag", observed=False).size().index.tolist() == ["lr"]
