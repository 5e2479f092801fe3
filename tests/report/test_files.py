"""Report folders: one per run plus an index; byte-identical output whatever `--jobs` is (PNGs
included), and folder names that can never leave `--out`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logan.cli import app
from logan.report.files import CURRENT, RUN_FILES, Drawing, RunFolders, slug, write_run
from tests.conftest import SAMPLES

runner = CliRunner()
# A mix of producers and verdicts, small enough to keep the test quick.
RUNS = ("mmengine_plateau_e4", "mmengine_nan_high_lr", "hf_cosine", "lightning_cycles")


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def outs(tmp_path_factory) -> tuple[Path, Path]:
    """`logan check RUNS --out` with --jobs 1 and --jobs 2."""
    args = [str(SAMPLES / n) for n in RUNS]
    made = []
    for jobs in ("1", "2"):
        out = tmp_path_factory.mktemp(f"jobs{jobs}") / "out"
        res = runner.invoke(app, ["check", *args, "--out", str(out), "--jobs", jobs, "-q"])
        assert res.exit_code == 1, res.output
        made.append(out)
    return made[0], made[1]


def test_check_out_is_byte_identical_with_jobs_2(outs):
    one, two = (_tree(o) for o in outs)
    assert sorted(one) == sorted(two)
    pngs = [k for k in one if k.endswith(".png")]
    assert len(pngs) >= 8
    for name in one:
        assert one[name] == two[name], name


def test_every_run_gets_a_folder_and_the_index_links_it(outs):
    out = outs[0]
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    runs = json.loads((out / "report.json").read_text())["runs"]
    assert len(folders) == len(runs) == len(RUNS)
    index_md = (out / "index.md").read_text()
    index_html = (out / "index.html").read_text()
    for folder in folders:
        for name in ("report.md", "report.html", "report.json", "lr.png", "loss.png"):
            assert (folder / name).is_file(), (folder.name, name)
        assert f"]({folder.name}/report.md)" in index_md
        assert f'href="{folder.name}/report.html"' in index_html
    # Worst first: the two runs with errors, then the warning, then the clean run.
    rows = [line for line in index_md.splitlines() if line.startswith("| [")]
    levels = [row.split(" | ")[4] for row in rows]
    assert levels == ["**error**", "**error**", "warning", "ok"]


@pytest.mark.parametrize(
    "path",
    ["../../etc", "/abs/path/run", "a/<img src=x>", "x" * 300, "..", "", "C:\\runs\\a"],
)
def test_slug_stays_inside_out(path):
    s = slug(path)
    assert s and "/" not in s and "\\" not in s and s not in (".", "..")
    assert len(s) <= 80 and not s.startswith(".")


def test_run_without_training_scalars_still_gets_a_report(results, tmp_path):
    r = results["mmengine_multistep_val"]
    val_only = r.run.scalars[r.run.scalars["tag"].str.startswith("val/")]
    assert len(val_only)
    run = dataclasses.replace(r.run, scalars=val_only, config_path=None)
    written = write_run(dataclasses.replace(r, run=run, findings=[], expected=None), tmp_path)
    assert not list(tmp_path.glob("*.png"))
    md = written["markdown"].read_text()
    assert "**No training scalars**" in md and "| config | not found |" in md
    assert "| expected schedule | none \\(no LR logged\\) |" in md
    assert "## Plots" not in md
    doc = json.loads(written["json"].read_text())
    assert doc["runs"][0]["note"] == "no training scalars" and doc["runs"][0]["worst"] is None


def test_background_drawing_writes_marks_and_reports_what_it_could_not(results, tmp_path):
    """`check --out` with one job draws in other processes (issue 15): a report refused there is
    one problem naming its run, and only the folders whose reports were written are marked."""
    good, bad = results["mmengine_plateau_e4"], results["mmengine_fixed_e4"]
    out = tmp_path / "out"
    places = ((good.run.path, "good", "good"), (bad.run.path, "bad", "bad"))
    drawing = Drawing(RunFolders(out, places))
    (out / "bad").mkdir(parents=True)
    (out / "bad" / "report.html").symlink_to(tmp_path / "elsewhere")
    for i, r in enumerate((good, bad)):
        drawing(r, i)
        drawing.mark_current([r.run.path], f"key{i}")
    assert not (out / "good" / CURRENT).exists()  # not before its report is surely written
    (problem,) = drawing.finish()
    assert problem.path == bad.run.path and "symbolic link" in problem.message
    assert (out / "good" / CURRENT).read_text().startswith("key0\n")
    assert not (out / "bad" / CURRENT).exists() and not (tmp_path / "elsewhere").exists()
    assert sorted(p.name for p in (out / "good").iterdir()) == sorted([*RUN_FILES, CURRENT])
