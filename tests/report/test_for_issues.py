"""Reports read well where people put them (issue 14): report.md pasted into a GitHub issue and
rendered by GitHub's own Markdown library (cmark-gfm), report folders named from the path the
user gave, Chinese run names kept readable without glyph warnings, and every format saying the
same thing about a run with no training scalars."""

from __future__ import annotations

import dataclasses
import shutil
import warnings

import pytest
from typer.testing import CliRunner

import logan
from logan.api import analyze_run
from logan.cli import app
from logan.model import Analysis
from logan.report import html, markdown, plots
from logan.report.files import write_all, write_run
from logan.report.text import render
from tests.conftest import SAMPLES
from tests.report.test_html import parse

runner = CliRunner()
GITHUB_BODY_LIMIT = 65_536


def gfm(text: str) -> str:
    """HTML as GitHub renders a comment (cmark-gfm with its table/autolink/tasklist extensions;
    GitHub then sanitises, which raw <details> survives)."""
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    return cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)


def _report(tmp_path, *extra: str) -> str:
    run = tmp_path / "work" / "steering" / "eval" / "mmengine_plateau_e4"
    shutil.copytree(SAMPLES / "mmengine_plateau_e4", run)
    out = tmp_path / "r"
    res = runner.invoke(app, ["report", str(run), "-o", str(out), *extra])
    assert res.exit_code == 1, res.stderr
    return (out / "report.md").read_text(encoding="utf-8")


def test_report_md_pasted_into_an_issue_has_no_broken_image_and_no_local_path(tmp_path):
    md = _report(tmp_path)
    page = parse(gfm(md))
    tags = [t for t, _ in page.tags]
    assert "img" not in tags  # nothing relative to break once pasted
    assert "lr.png" in md and "attach" in md  # ... but it says which PNGs to attach
    assert str(tmp_path) not in md and "work/steering" not in md.replace("\\", "")
    assert "report.json" not in md
    assert len(md) < GITHUB_BODY_LIMIT


def test_report_md_header_is_a_key_value_table_and_details_fold(tmp_path):
    rendered = gfm(_report(tmp_path))
    first_table = rendered.split("<table>", 1)[1].split("</table>", 1)[0]
    head = first_table.split("<tbody>")[0]
    # The run is a row of the table, not its bold header.
    assert "mmengine_plateau_e4" not in head and "<th>field</th>" in head
    assert "<td>run</td>" in first_table and "<td>mmengine_plateau_e4</td>" in first_table
    assert "<details><summary>Evidence</summary>" in rendered
    assert rendered.count("<details>") == rendered.count("</details>")


def test_image_base_url_shows_hosted_images(tmp_path):
    md = _report(tmp_path, "--image-base-url", "https://ci.example.org/artifacts/42/")
    srcs = [a["src"] for t, a in parse(gfm(md)).tags if t == "img"]
    assert srcs == [
        "https://ci.example.org/artifacts/42/lr.png",
        "https://ci.example.org/artifacts/42/loss.png",
        "https://ci.example.org/artifacts/42/scalars.png",
    ]


def test_check_out_image_base_url_points_into_each_run_folder(tmp_path):
    out = tmp_path / "o"
    res = runner.invoke(
        app,
        ["check", str(SAMPLES / "mmengine_plateau_e4"), "-o", str(out), "--image-base-url",
         "https://host/r"],
    )  # fmt: skip
    assert res.exit_code == 1
    md = (out / "mmengine_plateau_e4" / "report.md").read_text()
    assert "(<https://host/r/mmengine_plateau_e4/lr.png>)" in md
    bad = runner.invoke(app, ["check", str(SAMPLES), "-o", str(out), "--image-base-url", "x y"])
    assert bad.exit_code == 2 and "--image-base-url" in bad.stderr


def test_a_huge_report_still_renders_within_githubs_limit(results):
    r = results["mmengine_loss_spikes"]
    many = [dataclasses.replace(r.findings[0], step=i) for i in range(400)]
    md = markdown.run_markdown(dataclasses.replace(r, findings=many))
    assert len(md) < GITHUB_BODY_LIMIT
    rendered = gfm(md)
    assert rendered.count("<details>") == rendered.count("</details>")


def test_report_folders_are_named_from_the_path_relative_to_the_argument(tmp_path):
    root = tmp_path / "work" / "steering" / "eval" / "runs"
    for name in ("mmengine_plateau_e4", "mmengine_fixed_e4"):
        shutil.copytree(SAMPLES / name, root / name)
    out = tmp_path / "out"
    res = runner.invoke(app, ["check", str(root), "-o", str(out)])
    assert res.exit_code == 1
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["mmengine_fixed_e4", "mmengine_plateau_e4"]
    # The run given itself is named after its last part.
    res = runner.invoke(app, ["check", str(root / "mmengine_fixed_e4"), "-o", str(tmp_path / "o2")])
    assert [p.name for p in (tmp_path / "o2").iterdir() if p.is_dir()] == ["mmengine_fixed_e4"]


def test_chinese_run_name_stays_readable_and_draws_without_warnings(tmp_path):
    run = tmp_path / "runs" / "实验_学习率_buggy"
    shutil.copytree(SAMPLES / "mmengine_plateau_e4", run)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph warning per missing character used to show
        analysis = logan.analyze(run)
        write_all(analysis, tmp_path / "out", given=[str(run)])
    assert [p.name for p in (tmp_path / "out").iterdir() if p.is_dir()] == ["实验_学习率_buggy"]


def test_font_fallback_picks_an_installed_cjk_font():
    assert plots.font_families(frozenset({"DejaVu Sans"})) == ("DejaVu Sans",)
    fonts = frozenset({"DejaVu Sans", "WenQuanYi Zen Hei", "Noto Sans CJK JP"})
    assert plots.font_families(fonts) == ("DejaVu Sans", "Noto Sans CJK JP")
    result = analyze_run(logan.load_run(SAMPLES / "mmengine_plateau_e4"))
    fig = plots.lr_figure(result)
    assert fig is not None


def _validation_only(results):
    r = results["mmengine_multistep_val"]
    scalars = r.run.scalars[r.run.scalars["tag"].astype(str).str.startswith("val/")]
    run = dataclasses.replace(r.run, scalars=scalars.reset_index(drop=True))
    return dataclasses.replace(r, run=run, findings=[], expected=None)


def test_no_training_scalars_is_said_the_same_way_everywhere(results, tmp_path):
    from rich.console import Console

    empty = _validation_only(results)
    analysis = Analysis([empty, results["mmengine_fixed_e4"]], [])
    page = html.index_html(analysis, {0: "a/report.html", 1: "b/report.html"})
    rows = [row for row in page.split("<tr>") if "mmengine_multistep_val" in row]
    assert "no training scalars" in rows[0] and ">ok<" not in rows[0]
    run_page = html.run_html(empty, {})
    assert "no training scalars</span>" in run_page and "No findings." not in run_page
    assert "<h2>Findings</h2>" not in run_page
    index_md = markdown.index_markdown(analysis, {})
    row = next(line for line in index_md.splitlines() if "multistep" in line)
    assert "| no training scalars |" in row
    console = Console(width=100, record=True)
    render(analysis, console)
    text = console.export_text()
    row = next(line for line in text.splitlines() if "multistep" in line)
    assert "no training scalars" in row
    written = write_run(empty, tmp_path / "e")
    assert "No training scalars" in written["markdown"].read_text()


def test_run_names_are_relative_or_the_arguments_own_name():
    from logan.report.common import run_names

    given = ["/home/me/work/runs", "/data/lightning_cycles/", "./solo"]
    paths = [
        "/home/me/work/runs/a",
        "/home/me/work/runs/b/c",
        "/data/lightning_cycles/lightning_logs/version_0",
        "./solo",
        "elsewhere/x",
    ]
    assert run_names(paths, given) == ["a", "b/c", "lightning_cycles", "solo", "elsewhere/x"]


def test_a_long_source_list_is_folded_into_details(results):
    r = results["mmengine_plateau_e4"]
    sources = tuple(f"2026010{i}_000000/vis_data/2026010{i}_000000.json" for i in range(8))
    run = dataclasses.replace(r.run, sources=sources)
    md = markdown.run_markdown(dataclasses.replace(r, run=run))
    assert "and 3 more |" in md
    rendered = gfm(md)
    assert "<details><summary>Sources (8)</summary>" in rendered
    assert rendered.count("20260107\\_000000") == 0 and rendered.count("20260107_000000") == 2


def test_each_attempt_of_a_place_gets_its_own_folder():
    from logan.report.files import locate

    places = [("/w/runs/exp", "exp", "exp"), ("/w/runs/train.log", "train.log", "train.log")]
    assert locate("/w/runs/exp", places) == ("exp", "exp")
    assert locate("/w/runs/exp/20240101_120000", places) == (
        "exp__20240101_120000",
        "exp/20240101_120000",
    )
    folder, shown = locate("/w/runs/train.log (2)", places)
    assert shown == "train.log (2)" and folder.startswith("train.log___2")
    assert locate("/w/runs/exp2", places)[0] != "exp"  # a prefix that is not a folder boundary
