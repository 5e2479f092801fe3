"""A broken run in a tree of healthy ones changes nothing about the healthy runs' findings.

The broken run is listed under `problems` when nothing in it is readable, or as a run with RN001
when part of it is.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.robustness import corpus, harness

# Healthy and faulty samples of several producers, each with its own verdict.
RUNS = [
    "mmengine_plateau_e4",
    "mmengine_resume",
    "torch_tb_cosine",
    "hf_cosine",
    "lightning_cycles",
]


def _findings(doc: dict) -> dict[str, list[tuple[str, str]]]:
    """Codes and messages per run, keyed by the run's path below the tree."""
    out = {}
    for r in doc["runs"]:
        key = r["path"].split("/tree/", 1)[-1].split("/alone/", 1)[-1]
        out[key] = [(f["code"], f["message"]) for f in r["findings"]]
    return out


def _check(*paths: Path) -> tuple[int, dict]:
    res = harness.cli("check", *paths, "-q", "-f", "json", "--fail-on", "never")
    return res.exit_code, json.loads(res.stdout) if res.stdout.strip() else {}


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str]]]:
    """Each run's findings when it is analysed on its own."""
    base = tmp_path_factory.mktemp("alone") / "alone"
    out: dict[str, list[tuple[str, str]]] = {}
    for name in RUNS:
        shutil.copytree(corpus.SAMPLES / name, base / name)
        _, doc = _check(base / name)
        out.update(_findings(doc))
    return out


def _broken(kind: str, root: Path) -> None:
    """One broken run of the given kind under `root`."""
    if kind == "all-garbage":
        corpus.place("events", b"\xde\xad\xbe\xef" * 100, root / "broken")
    elif kind == "empty-mmengine":
        corpus.place("json", b"", root / "broken")
        corpus.place("text", b"", root / "broken")
    elif kind == "hf-not-json":
        corpus.place("hf", b"<html>404 Not Found</html>", root / "broken")
    elif kind == "csv-no-header":
        corpus.place("csv", b"1,2,3\n4,5,6\n", root / "broken")
    elif kind == "half-json":
        data = corpus.JSON_LOG.read_bytes()
        corpus.place("json", data[: len(data) // 2], root / "broken")
    elif kind == "flipped-events":
        data = corpus.EVENT_FILE.read_bytes()
        corpus.place("events", corpus.flip(data, len(data) // 2, 4), root / "broken")
    else:
        raise ValueError(kind)


@pytest.mark.parametrize(
    "kind, readable",
    [
        ("all-garbage", False),
        ("empty-mmengine", False),
        ("hf-not-json", False),
        ("csv-no-header", False),
        ("half-json", True),
        ("flipped-events", True),
    ],
)
def test_a_broken_run_changes_nothing_about_the_others(
    tmp_path: Path, alone: dict[str, list[tuple[str, str]]], kind: str, readable: bool
) -> None:
    tree = tmp_path / "tree"
    for name in RUNS:
        shutil.copytree(corpus.SAMPLES / name, tree / name)
    _broken(kind, tree)
    corpus.tried(f"tree/{kind}")
    code, doc = _check(tree)
    assert code == 0
    found = _findings(doc)
    broken = found.pop("broken", None)
    assert found == alone
    problems = {Path(p["path"]).name: p["message"] for p in doc["problems"]}
    if readable:
        assert broken is not None and "RN001" in {c for c, _ in broken}
        assert not problems
    else:
        assert broken is None
        assert list(problems) == ["broken"], doc["problems"]


def test_only_broken_runs_exit_2_with_one_line_each(tmp_path: Path) -> None:
    _broken("all-garbage", tmp_path / "a")
    _broken("empty-mmengine", tmp_path / "b")
    corpus.tried("tree/only-broken", 2)
    res = harness.cli("check", tmp_path / "a", tmp_path / "b", "-q")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert lines[0].startswith(f"logan: {tmp_path / 'a' / 'broken'}: ")
    assert len(lines) == 2, lines


def test_parallel_jobs_give_the_same_answer_on_a_broken_tree(tmp_path: Path) -> None:
    """Broken runs in worker processes: the same runs, findings and problems as with one job."""
    tree = tmp_path / "tree"
    for name in RUNS[:3]:
        shutil.copytree(corpus.SAMPLES / name, tree / name)
    for kind in ("all-garbage", "half-json"):
        _broken(kind, tree / kind)
    corpus.tried("tree/jobs", 2)
    one = harness.cli("check", tree, "-q", "-f", "json", "--fail-on", "never")
    two = harness.cli("check", tree, "-q", "-f", "json", "--fail-on", "never", "--jobs", "2")
    assert json.loads(one.stdout) == json.loads(two.stdout)
    assert one.stderr == two.stderr
