"""Write report folders: one sub-folder per run (report.md, report.json, PNGs) and an index.

Output names are derived from each run's path relative to the argument it was found under, short
and stable ('xt_buggy_e3', not 'work__steering__...__xt_buggy_e3-87d6142f'); letters of any script
stay readable (a Chinese folder name keeps its characters), everything else is sanitised, so
nothing is ever written outside `--out` whatever a run folder is called (`../`, absolute paths,
very long names).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from logan.model import Analysis, RunResult
from logan.report import html, markdown, plots
from logan.report.common import run_names, worst_first
from logan.report.serialize import SCHEMA, analysis_dict, run_dict

# Word characters of any script are kept (\w is Unicode-aware); separators, punctuation, control
# and format characters are not. ASCII-only names are what a shell user types most easily, but a
# run called `实验_buggy` must not become `buggy-dd082f3c`.
_UNSAFE = re.compile(r"[^\w.-]+")
MAX_NAME = 80


def slug(path: str) -> str:
    """A safe, readable, unique folder name for a run path."""
    parts = [p for p in re.split(r"[\\/]+", path) if p not in ("", ".", "..")]
    base = _UNSAFE.sub("_", "__".join(parts)).strip("._-") or "run"
    if len(base) > MAX_NAME or base != "__".join(parts):
        digest = hashlib.sha1(path.encode("utf-8", "replace")).hexdigest()[:8]
        base = f"{base[: MAX_NAME - 9]}-{digest}"
    return base


def write_run(
    result: RunResult, folder: Path, *, name: str | None = None, image_base_url: str | None = None
) -> dict[str, Path]:
    """Write one run's report into `folder`; returns the files written. `name` is how the
    reports call the run (default: its path); `image_base_url` where its PNGs will be hosted."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    links: dict[str, str] = {}
    for key, build in (
        ("lr", plots.lr_figure),
        ("loss", plots.loss_figure),
        ("scalars", plots.scalars_figure),
    ):
        # An axis reaching ~1e300 overflows matplotlib's symlog transform while it is set up,
        # harmlessly (the plot is drawn); numpy's warning about it must not reach stderr.
        with np.errstate(over="ignore", invalid="ignore"):
            fig = build(result)
        if fig is None:
            continue
        target = folder / f"{key}.png"
        plots.save(fig, target)
        written[key] = target
        links[key] = target.name
    md = folder / "report.md"
    text = markdown.run_markdown(result, links, name=name, image_base_url=image_base_url)
    md.write_text(text, encoding="utf-8")
    written["markdown"] = md
    images = {key: written[key] for key in links}
    page = folder / "report.html"
    page.write_text(html.run_html(result, images, name=name), encoding="utf-8")
    written["html"] = page
    js = folder / "report.json"
    doc = analysis_dict(Analysis([result], []))
    js.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    written["json"] = js
    return written


def folder_names(paths: list[str], given: Sequence[str] = ()) -> list[str]:
    """One unique, safe folder name per run path, in order: from the run's name relative to the
    arguments in `given` (see `run_names`; the path itself when `given` is empty)."""
    used: set[str] = set()
    names = []
    for shown in run_names(paths, given) if given else paths:
        name = slug(shown)
        while name in used:
            name += "_"
        used.add(name)
        names.append(name)
    return names


# A place (what discovery found: a work_dir, a log file) as the reports name it:
# (its path, its folder under --out, its name in the reports).
Place = tuple[str, str, str]


def locate(run_path: str, places: Sequence[Place]) -> tuple[str, str]:
    """(folder under --out, name in the reports) of a run: its place's, plus the rest of its path
    when the place held several attempts (`work_dir/20240101_120000`, `train.log (2)`)."""
    best: Place | None = None
    for place in places:
        path = place[0]
        if run_path == path or (
            run_path.startswith(path) and run_path[len(path)] in "/\\ "
        ):  # fmt: skip
            if best is None or len(path) > len(best[0]):
                best = place
    if best is None:
        return slug(run_path), run_path
    path, folder, shown = best
    rest = run_path[len(path) :]
    if not rest:
        return folder, shown
    joiner = " " if rest.startswith(" ") else "/"
    rest = rest.strip("/\\ ")
    return slug(f"{folder}/{rest}"), f"{shown}{joiner}{rest}"


@dataclass(frozen=True)
class RunFolders:
    """Writes each run's report folder as soon as the run is analysed (picklable, so worker
    processes of `--jobs` write their own runs): memory never holds more than one run's table.

    A place may hold several attempts, known only once read, so a run's folder is found from its
    path (see `locate`), not from its position."""

    out: Path
    places: tuple[Place, ...]
    image_base_url: str | None = None

    def __call__(self, result: RunResult, index: int) -> None:
        folder, shown = locate(result.run.path, self.places)
        url = self.image_base_url
        write_run(
            result,
            self.out / folder,
            name=shown,
            image_base_url=markdown.image_url(url, folder) if url else None,
        )


@dataclass
class ReportTree:
    """`check --out`: hands `analyze` a per-run writer (see RunFolders) and, at the end, writes
    the index linking the folders it wrote."""

    out: Path
    given: tuple[str, ...] = ()
    image_base_url: str | None = None
    places: tuple[Place, ...] = ()

    def sink(self, place_paths: list[str]) -> RunFolders:
        folders = folder_names(place_paths, self.given)
        shown = run_names(place_paths, self.given) if self.given else place_paths
        self.places = tuple(zip(place_paths, folders, shown, strict=True))
        return RunFolders(self.out, self.places, self.image_base_url)

    def write_index(self, analysis: Analysis) -> dict[str, Path]:
        names = [locate(r.run.path, self.places)[0] for r in analysis.results]
        return write_index(analysis, self.out, names)


def write_all(
    analysis: Analysis, out: Path, given: Sequence[str] = (), image_base_url: str | None = None
) -> dict[str, Path]:
    """One folder per run plus index.md and an all-runs report.json in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    tree = ReportTree(out, tuple(map(str, given)), image_base_url)
    per_run = tree.sink([r.run.path for r in analysis.results])
    for i, result in enumerate(analysis.results):
        per_run(result, i)
    return tree.write_index(analysis)


def write_index(analysis: Analysis, out: Path, names: list[str]) -> dict[str, Path]:
    """index.md, index.html and the all-runs report.json, linking each run's folder (the index
    names runs by their whole path: two arguments may each hold a `version_0`)."""
    out.mkdir(parents=True, exist_ok=True)
    links = {i: f"{name}/report.md" for i, name in enumerate(names)}
    text = markdown.index_markdown(analysis, links)
    (out / "index.md").write_text(text, encoding="utf-8")
    html_links = {i: link.replace("report.md", "report.html") for i, link in links.items()}
    order = worst_first(analysis)
    page = html.index_html(analysis, html_links, order)
    (out / "index.html").write_text(page, encoding="utf-8")
    doc = analysis_dict(analysis)
    assert doc["schema"] == SCHEMA
    (out / "report.json").write_text(
        json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    return {"index": out / "index.md", "html": out / "index.html", "json": out / "report.json"}


__all__ = [
    "ReportTree",
    "RunFolders",
    "folder_names",
    "slug",
    "write_all",
    "write_index",
    "write_run",
    "run_dict",
]
