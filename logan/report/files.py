"""Write report folders: one sub-folder per run (report.md, report.json, PNGs) and an index.

Output names are derived from run paths but sanitised, so nothing is ever written outside `--out`
whatever a run folder is called (`../`, absolute paths, very long names).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from logan.model import Analysis, RunResult
from logan.report import html, markdown, plots
from logan.report.serialize import SCHEMA, analysis_dict, run_dict

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 80


def slug(path: str) -> str:
    """A safe, readable, unique folder name for a run path."""
    parts = [p for p in re.split(r"[\\/]+", path) if p not in ("", ".", "..")]
    base = _UNSAFE.sub("_", "__".join(parts)).strip("._") or "run"
    if len(base) > MAX_NAME or base != "__".join(parts):
        digest = hashlib.sha1(path.encode("utf-8", "replace")).hexdigest()[:8]
        base = f"{base[: MAX_NAME - 9]}-{digest}"
    return base


def write_run(result: RunResult, folder: Path) -> dict[str, Path]:
    """Write one run's report into `folder`; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    links: dict[str, str] = {}
    for name, build in (
        ("lr", plots.lr_figure),
        ("loss", plots.loss_figure),
        ("scalars", plots.scalars_figure),
    ):
        fig = build(result)
        if fig is None:
            continue
        target = folder / f"{name}.png"
        plots.save(fig, target)
        written[name] = target
        links[name] = target.name
    md = folder / "report.md"
    md.write_text(markdown.run_markdown(result, links), encoding="utf-8")
    written["markdown"] = md
    images = {name: written[name] for name in links}
    page = folder / "report.html"
    page.write_text(html.run_html(result, images), encoding="utf-8")
    written["html"] = page
    js = folder / "report.json"
    doc = analysis_dict(Analysis([result], []))
    js.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    written["json"] = js
    return written


def folder_names(paths: list[str]) -> list[str]:
    """One unique, safe folder name per run path, in order."""
    used: set[str] = set()
    names = []
    for path in paths:
        name = slug(path)
        while name in used:
            name += "_"
        used.add(name)
        names.append(name)
    return names


@dataclass(frozen=True)
class RunFolders:
    """Writes each run's report folder as soon as the run is analysed (picklable, so worker
    processes of `--jobs` write their own runs): memory never holds more than one run's table."""

    out: Path
    names: tuple[str, ...]

    def __call__(self, result: RunResult, index: int) -> None:
        # Named by the run's path: a place may hold several attempts, known only once read.
        write_run(result, self.out / slug(result.run.path))


def write_all(analysis: Analysis, out: Path) -> dict[str, Path]:
    """One folder per run plus index.md and an all-runs report.json in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    names = folder_names([r.run.path for r in analysis.results])
    for result, name in zip(analysis.results, names, strict=True):
        write_run(result, out / name)
    return write_index(analysis, out, names)


def write_index(analysis: Analysis, out: Path, names: list[str]) -> dict[str, Path]:
    """index.md, index.html and the all-runs report.json, linking each run's folder."""
    out.mkdir(parents=True, exist_ok=True)
    links = {i: f"{name}/report.md" for i, name in enumerate(names)}
    (out / "index.md").write_text(markdown.index_markdown(analysis, links), encoding="utf-8")
    html_links = {i: link.replace("report.md", "report.html") for i, link in links.items()}
    order = markdown.worst_first(analysis)
    (out / "index.html").write_text(html.index_html(analysis, html_links, order), encoding="utf-8")
    doc = analysis_dict(analysis)
    assert doc["schema"] == SCHEMA
    (out / "report.json").write_text(
        json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    return {"index": out / "index.md", "html": out / "index.html", "json": out / "report.json"}


__all__ = [
    "RunFolders",
    "folder_names",
    "slug",
    "write_all",
    "write_index",
    "write_run",
    "run_dict",
]
