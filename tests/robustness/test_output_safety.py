"""Report files stay inside --out and show hostile names as text, whatever the run is called.

Run folders (and the config file named in LR001's fix) carry HTML, Markdown links, `../`, very
long names, newlines and unicode; the tree around --out is snapshotted before and after.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from tests.robustness import corpus, harness

RUN = "mmengine_plateau_textlog_only"  # LR001 with a fix diff that names the config file
# Five runs (each writes three plots, the slow part), several hostile pieces per name.
NAMES = [
    "<img src=x onerror=alert(1)>",
    "`<img src=x onerror=alert(2)>` [click](javascript:alert(3)) <svg onload=alert(4)>",
    "..%2F..%2Fescape .. | table | break |",
    "x" * 230,
    "ünïcødé \u202egnp.exe 🚀 名前 line\nbreak",
]
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
_FENCE = re.compile(r"^(`{3,}).*?^\1", re.S | re.M)


def _files(top: Path) -> set[Path]:
    return {Path(d) / f for d, _, fs in os.walk(top) for f in fs}


def _tree(tmp_path: Path) -> Path:
    src = tmp_path / "runs"
    for name in NAMES:
        root = src / name
        shutil.copytree(corpus.SAMPLES / RUN, root)
        (cfg,) = root.glob("*.py")
        cfg.rename(root / f"{name[:200]}.py")
    return src


def _outside_code(markdown: str) -> str:
    return _CODE_SPAN.sub("", _FENCE.sub("", markdown))


def _check_reports(out: Path) -> None:
    for path in _files(out):
        if path.suffix == ".html":
            text = path.read_text()
            for bad in ("<img src=x", "<svg onload", 'href="javascript'):
                assert bad not in text, (path, bad)
        elif path.suffix == ".md":
            text = _outside_code(path.read_text())
            for bad in ("<img", "<svg", "](javascript"):
                assert bad not in text, (path, bad)


def test_check_out_writes_only_inside_out(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    out = tmp_path / "out"
    before = _files(tmp_path)
    corpus.tried("output/names", len(NAMES))
    res = harness.cli("check", src, "--out", out, "-q", "-f", "markdown")
    assert res.exit_code == 1
    new = _files(tmp_path) - before
    assert new and all(out in p.parents for p in new), sorted(new - _files(out))
    assert len([p for p in new if p.name == "report.html"]) == len(NAMES)
    _check_reports(out)
    stdout = _outside_code(res.stdout)
    assert "<img" not in stdout and "<svg" not in stdout


def test_dotted_and_absolute_arguments(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    out = tmp_path / "a" / "out"
    before = _files(tmp_path)
    dotted = src / NAMES[0] / ".." / NAMES[2]
    corpus.tried("output/paths", 2)
    res = harness.cli("check", dotted, (src / NAMES[3]).resolve(), "--out", out, "-q")
    assert res.exit_code == 1
    new = _files(tmp_path) - before
    assert new and all(out in p.parents for p in new)
    _check_reports(out)
    report = tmp_path / "b" / "report"
    res = harness.cli("report", dotted, "--out", report)
    new = _files(tmp_path) - before - _files(out)
    assert new and all(report in p.parents for p in new)
    _check_reports(report)
