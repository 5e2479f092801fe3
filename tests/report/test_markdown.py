"""Markdown and JSON reports: exact goldens for a real sample run (paths normalised), escaping of
hostile run names, and trimming under GitHub's size limit.

Set LOGAN_UPDATE_GOLDEN=1 to rewrite the goldens after an intended change, then review the diff.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from pathlib import Path

import pytest

import logan
from logan.model import Finding, RunResult, Severity
from logan.report import markdown
from logan.report.common import counts
from logan.report.files import write_all, write_run
from tests.conftest import SAMPLES
from tests.report.conftest import normalise
from tests.report.test_html import parse

GOLDEN = Path(__file__).parent / "golden"
INJECTION = "<img src=x onerror=alert(1)>"


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LOGAN_UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs; LOGAN_UPDATE_GOLDEN=1 rewrites it"


def test_markdown_golden_plateau(results, tmp_path):
    written = write_run(results["mmengine_plateau_e4"], tmp_path)
    _golden("mmengine_plateau_e4.md", normalise(written["markdown"].read_text(encoding="utf-8")))


def test_json_golden_plateau_schema_1(results, tmp_path):
    written = write_run(results["mmengine_plateau_e4"], tmp_path)
    text = normalise(written["json"].read_text(encoding="utf-8"))
    doc = json.loads(text)
    assert doc["schema"] == 1
    run = doc["runs"][0]
    # The schema-1 keys tools rely on, whatever is added later.
    for key in ("path", "producer", "sources", "sessions", "last_step", "epoch_length"):
        assert key in run
    for key in ("code", "name", "severity", "message", "step", "end_step", "evidence", "hint"):
        assert key in run["findings"][0]
    _golden("mmengine_plateau_e4.json", text)


def test_markdown_report_has_every_part(results, tmp_path):
    md = write_run(results["mmengine_plateau_e4"], tmp_path)["markdown"].read_text()
    assert "| config | found: mmengine\\_plateau\\_e4.py |" in md
    assert "| LR001 lr-plateau | **error** | steps 41-160 (from epoch 1) |" in md
    assert "**Cause:** `end` is not set" in md
    assert "```diff\n--- a/mmengine_plateau_e4.py" in md and "+        end=4," in md
    for png in ("lr.png", "loss.png", "scalars.png"):
        # Named as a file to attach, never as a relative image that breaks once pasted.
        assert f"`{png}`" in md and f"]({png})" not in md and (tmp_path / png).exists()
    assert "<details><summary>Evidence</summary>" in md


def test_no_findings_report_says_so(results):
    md = markdown.run_markdown(results["mmengine_fixed_e4"])
    assert "**No findings.**" in md and "## Findings" not in md
    assert "| findings | none |" in md


@pytest.mark.parametrize(
    "name",
    [
        INJECTION,
        "[click](http://evil.example)",
        "run www.evil.example",
        "mail me@evil.example",
        "a|b`c`*d*_e_ # ~f~",
    ],
)
def test_run_names_are_text_in_markdown(name):
    out = markdown.esc(name)
    assert "<" not in out and ">" not in out
    assert "http://" not in out and "www." not in out and "@" not in out
    # Every Markdown-significant character is escaped (entities we wrote aside).
    bare = re.sub(r"&(#\d+|lt|gt|amp);", "", out)
    for ch in "|`*_[]#~":
        assert re.search(rf"(?<!\\){re.escape(ch)}", bare) is None, ch


def test_injection_run_folder_report_and_index(tmp_path):
    root = tmp_path / "runs"
    shutil.copytree(SAMPLES / "mmengine_plateau_e4", root / INJECTION)
    analysis = logan.analyze(root)
    assert len(analysis.results) == 1
    out = tmp_path / "out"
    write_all(analysis, out)
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    assert "<" not in folder.name and ">" not in folder.name
    for text in (out / "index.md").read_text(), (folder / "report.md").read_text():
        assert "<img" not in text
        assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in text
    index = (out / "index.md").read_text()
    # The only link is ours, to the report, with the escaped name as its text.
    assert re.findall(r"\]\(([^)]*)\)", index) == [f"{folder.name}/report.md"]


def test_prose_turns_backticks_into_code_spans_and_escapes_the_rest():
    assert markdown.prose("set `end=max_epochs` (not T_max)") == (
        "set `end=max_epochs` \\(not T\\_max\\)"
    )
    # An unbalanced backtick is escaped, not a code span.
    assert markdown.prose("a ` b") == "a \\` b"
    # Inside a table a pipe in a code span must not split the cell.
    assert markdown.prose("`a|b`", table=True) == "`a\\|b`"


def _many_findings(result: RunResult, n: int) -> RunResult:
    base = result.findings[0]
    big = {f"key_{i}": "x" * 200 for i in range(20)}
    extra = [
        dataclasses.replace(base, code="LR001", step=i, evidence={**base.evidence, **big})
        for i in range(n)
    ]
    return dataclasses.replace(result, findings=extra)


def test_long_report_is_trimmed_by_sections_and_says_so(results):
    long = _many_findings(results["mmengine_plateau_e4"], 80)
    md = markdown.run_markdown(long, {"lr": "lr.png"})
    assert len(md) <= markdown.GITHUB_LIMIT < 65_536
    assert "**Trimmed:**" in md and "report.html" in md
    # The summary table still lists every finding; code fences and details stay balanced.
    assert md.count("| LR001 lr-plateau |") == 80
    assert md.count("```diff") * 2 == md.count("```")
    assert md.count("<details>") == md.count("</details>")
    assert md.rstrip().endswith("</sub>") and "`lr.png`" in md


def test_short_report_is_not_trimmed(results):
    md = markdown.run_markdown(results["mmengine_plateau_e4"])
    assert "Trimmed" not in md


def test_index_is_worst_first_and_links_every_run(results):
    order = ["mmengine_fixed_e4", "mmengine_throughput_drop", "mmengine_plateau_e4"]
    analysis = logan.model.Analysis([results[n] for n in order], [])
    links = {i: f"run{i}/report.md" for i in range(3)}
    md = markdown.index_markdown(analysis, links)
    rows = [line for line in md.splitlines() if line.startswith("| [")]
    assert [r.split("](")[1].split(")")[0] for r in rows] == [
        "run2/report.md",  # error
        "run1/report.md",  # warning
        "run0/report.md",  # clean
    ]
    assert "| **error** |" in rows[0] and "| warning |" in rows[1] and "| ok |" in rows[2]


def test_severity_words_in_counts():
    f = Finding("LR001", "lr-plateau", Severity.ERROR, "m")
    w = Finding("LS002", "loss-spike", Severity.WARNING, "m")
    assert counts([f, f, w]) == "2 errors, 1 warning"
    assert counts([]) == "none"


HOSTILE = [
    INJECTION,
    "[x](javascript:alert(1))",
    "![x](http://evil.example/x.png)",
    "<a href=//evil.example>x</a>",
    "`code` **bold** <b>b</b> &lt;",
    "run\n# heading\n<script>alert(1)</script>",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_rendered_markdown_has_only_our_tags(results, name):
    """Render with a CommonMark parser (raw HTML allowed, as GitHub allows <details>) and check
    that the hostile run name added no tag, link or image of its own."""
    md = pytest.importorskip("markdown_it").MarkdownIt("commonmark", {"html": True})
    md.enable("table")
    r = results["mmengine_plateau_e4"]
    run = dataclasses.replace(r.run, path=name, sources=(name,))
    finding = dataclasses.replace(r.findings[0], message=f"{name} `{name}`")
    report = markdown.run_markdown(
        dataclasses.replace(r, run=run, findings=[finding]),
        {"lr": "lr.png"},
        image_base_url="https://ci.example/artifacts/",
    )
    page = parse(md.render(report))
    imgs = [a.get("src") for t, a in page.tags if t == "img"]
    links = [a.get("href") for t, a in page.tags if t == "a"]
    assert imgs == ["https://ci.example/artifacts/lr.png"] and links == []
    assert [t for t, _ in page.tags if t == "h1"] == ["h1"]
    assert "script" not in [t for t, _ in page.tags]
    assert "b" not in [t for t, _ in page.tags]
    # The name is shown as text (newlines folded to spaces).
    assert name.replace("\n", " ") in " ".join(page.text).replace("\n", " ")
