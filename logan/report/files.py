"""Write report folders: one sub-folder per run (report.md, report.json, PNGs) and an index.

Output names are derived from each run's path relative to the argument it was found under, short
and stable ('xt_buggy_e3', not 'work__steering__...__xt_buggy_e3-87d6142f'); letters of any script
stay readable (a Chinese folder name keeps its characters), everything else is sanitised, so
nothing is ever written outside `--out` whatever a run folder is called (`../`, absolute paths,
very long names); no file or folder inside `--out` is written through a symbolic link (one planted
there could point anywhere), and `--out` itself is checked before the analysis, so that an
unusable one costs seconds, not the whole run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import stat
import tempfile
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from logan.errors import LoganError, OutputError
from logan.model import Analysis, Problem, RunResult
from logan.report import html, markdown, plots
from logan.report.common import run_names, worst_first
from logan.report.serialize import SCHEMA, analysis_dict, run_dict
from logan.textsafe import visible, visible_block

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Word characters of any script are kept (\w is Unicode-aware); separators, punctuation, control
# and format characters are not. ASCII-only names are what a shell user types most easily, but a
# run called `实验_buggy` must not become `buggy-dd082f3c`.
_UNSAFE = re.compile(r"[^\w.-]+")
MAX_NAME = 80
# In each run's folder: the cache key its reports were drawn for (see `RunFolders.is_current`).
CURRENT = ".logan-key"
REPORT_FILES = ("report.md", "report.html", "report.json")
# The files `check --out` writes at the top of its folder.
INDEX_FILES = ("index.md", "index.html", "report.json")
# The files `report --out` writes (and the folder of each run under `check --out`).
RUN_FILES = ("report.md", "report.html", "report.json", "lr.png", "loss.png", "scalars.png")
# O_NOFOLLOW: never through a link; O_NONBLOCK: a FIFO planted under a report's name fails at
# once instead of hanging logan until someone reads it.
_OPEN_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_TRUNC
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)


def check_out(out: Path, names: Iterable[str] = INDEX_FILES) -> None:
    """Make sure `out` is (or can be created as) a folder logan can write, and that none of the
    files it will write there (`names`) is a folder, a link or a device. Raises OutputError with
    the one line to show; called before the analysis."""
    shown = visible(out)
    if out.exists():
        if not out.is_dir():
            raise OutputError(
                f"--out {shown}: exists and is not a folder; give a folder (created if missing)"
            )
    else:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"--out {shown}: cannot create the folder ({exc.strerror or exc}); "
                "give a folder you can write"
            ) from None
    for name in names:
        _check_target(out / name)
    try:
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise OutputError(
            f"--out {shown}: cannot write there ({exc.strerror or exc}); "
            "give a folder you can write"
        ) from None


def _refuse_link(path: Path) -> None:
    if path.is_symlink():
        raise OutputError(
            f"{visible(path)}: is a symbolic link; logan never writes through a link inside "
            "--out: remove it or give another --out"
        )


def _check_target(path: Path) -> None:
    """A name logan is about to write must be absent or a plain file, never a link."""
    _refuse_link(path)
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise OutputError(
            f"{visible(path)}: is {kind} where logan writes a report file; "
            "remove it or give another --out"
        )


def write_file(path: Path, data: str | bytes) -> None:
    """Create or replace one report file, never through a link or into a device or FIFO. Text
    shows control characters as escapes (`cat report.md` is a terminal too) and a lone surrogate
    as U+FFFD, so that no report fails to encode."""
    raw = visible_block(data).encode("utf-8") if isinstance(data, str) else data
    _check_target(path)
    try:
        fd = os.open(path, _OPEN_FLAGS, 0o666)
    except OSError:
        _check_target(path)  # a link or FIFO that appeared meanwhile gets its own message
        raise
    with os.fdopen(fd, "wb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OutputError(f"{visible(path)}: is not a regular file; remove it")
        f.write(raw)


def write_png(fig: Figure, path: Path) -> bytes:
    """A plot written like every other report file (`write_file`); its bytes are returned so
    that the HTML report embeds them without reading the file back."""
    data = plots.png_bytes(fig)
    write_file(path, data)
    return data


def make_folder(folder: Path) -> None:
    """Create a run's report folder inside --out; one that is a link is refused, not followed."""
    _refuse_link(folder)
    folder.mkdir(parents=True, exist_ok=True)


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
    """Write one run's report into `folder` (the caller's; `make_folder` for one inside --out);
    returns the files written. `name` is how the reports call the run (default: its path);
    `image_base_url` where its PNGs will be hosted."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    links: dict[str, str] = {}
    pngs: dict[str, bytes] = {}
    for key, build in (
        ("lr", plots.lr_figure),
        ("loss", plots.loss_figure),
        ("scalars", plots.scalars_figure),
    ):
        # An axis reaching ~1e300 overflows matplotlib's symlog transform while it is set up,
        # harmlessly (the plot is drawn); numpy's warning about it must not reach stderr.
        # Each figure is encoded before the next is built: the builders may reuse this
        # thread's figures (issue 15: building axes cost more than drawing the curves).
        with np.errstate(over="ignore", invalid="ignore"):
            fig = build(result, reuse=True)
        if fig is None:
            continue
        target = folder / f"{key}.png"
        pngs[key] = write_png(fig, target)
        written[key] = target
        links[key] = target.name
    md = folder / "report.md"
    write_file(md, markdown.run_markdown(result, links, name=name, image_base_url=image_base_url))
    written["markdown"] = md
    images = {key: written[key] for key in links}
    page = folder / "report.html"
    write_file(page, html.run_html(result, images, pngs, name=name))
    written["html"] = page
    js = folder / "report.json"
    doc = analysis_dict(Analysis([result], []))
    write_file(js, json.dumps(doc, indent=2, allow_nan=False) + "\n")
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

    def __post_init__(self) -> None:
        # Before the analysis: a link planted under a run's (predictable) folder name is refused
        # now, not after an hour of work. `write_file` still checks each file as it writes it.
        for _, folder, _ in self.places:
            _refuse_link(self.out / folder)

    def __call__(self, result: RunResult, index: int) -> None:
        folder, shown = locate(result.run.path, self.places)
        url = self.image_base_url
        make_folder(self.out / folder)
        (self.out / folder / CURRENT).unlink(missing_ok=True)
        write_run(
            result,
            self.out / folder,
            name=shown,
            image_base_url=markdown.image_url(url, folder) if url else None,
        )

    def _mark(self, path: str, key: str) -> tuple[Path, str]:
        """A run's folder and what its mark must say: the cache key, and how the reports name
        the run and link its images (a different name or --image-base-url draws them again)."""
        folder, shown = locate(path, self.places)
        return self.out / folder, f"{key}\n{shown}\n{self.image_base_url or ''}"

    def is_current(self, paths: list[str], key: str) -> bool:
        """These runs' folders were written for this cache key and still hold their reports (so
        cached, unchanged runs are not drawn again)."""
        for path in paths:
            folder, expected = self._mark(path, key)
            try:
                mark = (folder / CURRENT).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return False
            if mark != expected or not all((folder / name).is_file() for name in REPORT_FILES):
                return False
        return True

    def mark_current(self, paths: list[str], key: str) -> None:
        for path in paths:
            folder, mark = self._mark(path, key)
            write_file(folder / CURRENT, mark)


# How many processes draw the reports of a `check --out` analysed in one process: the analysis
# is done long before the drawing (issue 15: 5 s against 20 s for 118 real runs), so a second
# drawing process shortens the wait even on two cores.
DRAWING_PROCESSES = 2


class Drawing:
    """RunFolders in background processes: the analysis goes on with the next run while this
    one's report is drawn. At most `AHEAD` runs wait for their drawing, so memory holds a few
    runs' tables, not all of them. What went wrong is told by `finish` with the run's path, as
    the analysis tells a failed report; folders are marked current (see
    `RunFolders.is_current`) only once their reports are written."""

    AHEAD = 4

    def __init__(self, folders: RunFolders, processes: int = DRAWING_PROCESSES) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.folders = folders
        # The folders go to each process once (a fleet's places are many), not with every run.
        self._pool = ProcessPoolExecutor(
            max_workers=max(1, min(processes, os.cpu_count() or 1)),
            initializer=_drawing_process,
            initargs=(folders,),
        )
        self._pending: deque[tuple[str, Future[None]]] = deque()
        self._failed: dict[str, str] = {}
        self._marks: list[tuple[list[str], str]] = []

    def __call__(self, result: RunResult, index: int) -> None:
        expected = result.expected
        if expected is not None:
            # The per-iteration simulations are for the checks, not the reports: a config set
            # for 750,000 iterations made them 60 MB to send for a run of 15 logged points.
            expected = dataclasses.replace(expected, simulation=None, simulation_extended=None)
            result = dataclasses.replace(result, expected=expected)
        self._pending.append((result.run.path, self._pool.submit(_draw, result, index)))
        while len(self._pending) > self.AHEAD:
            self._settle(*self._pending.popleft())

    def _settle(self, path: str, drawn: Future[None]) -> None:
        try:
            drawn.result()
        except LoganError as exc:  # e.g. a link planted in --out: refused, said as it is
            self._failed[path] = str(exc)
        except Exception as exc:  # noqa: BLE001 - a report that fails costs the report
            self._failed[path] = (
                f"report could not be written ({type(exc).__name__}: {exc}); please report"
            )

    def is_current(self, paths: list[str], key: str) -> bool:
        return self.folders.is_current(paths, key)

    def mark_current(self, paths: list[str], key: str) -> None:
        self._marks.append((paths, key))

    def finish(self) -> list[Problem]:
        """Wait for every drawing; mark the folders drawn; one Problem per report not written."""
        try:
            while self._pending:
                self._settle(*self._pending.popleft())
        finally:
            self._pool.shutdown(cancel_futures=True)
        for paths, key in self._marks:
            if not any(p in self._failed for p in paths):
                try:
                    self.folders.mark_current(paths, key)
                except OSError:  # an unmarked report is only drawn again next time
                    pass
        return [Problem(path, message) for path, message in self._failed.items()]


# A drawing process's RunFolders (set once by `_drawing_process`).
_FOLDERS: list[RunFolders] = []


def _drawing_process(folders: RunFolders) -> None:
    _FOLDERS[:] = [folders]


def _draw(result: RunResult, index: int) -> None:
    _FOLDERS[0](result, index)


@dataclass
class ReportTree:
    """`check --out`: hands `analyze` a per-run writer (see RunFolders; in a `background`
    process with `Drawing`, for an analysis in this process) and, at the end, writes the index
    linking the folders it wrote."""

    out: Path
    given: tuple[str, ...] = ()
    image_base_url: str | None = None
    places: tuple[Place, ...] = ()
    background: bool = False
    drawing: Drawing | None = None

    def sink(self, place_paths: list[str]) -> RunFolders | Drawing:
        folders = folder_names(place_paths, self.given)
        shown = run_names(place_paths, self.given) if self.given else place_paths
        self.places = tuple(zip(place_paths, folders, shown, strict=True))
        per_run = RunFolders(self.out, self.places, self.image_base_url)
        if not self.background:
            return per_run
        self.drawing = Drawing(per_run)
        return self.drawing

    def write_index(self, analysis: Analysis) -> dict[str, Path]:
        """The index, once every run's report is written (a report that could not be is one
        more problem of the analysis)."""
        if self.drawing is not None:
            analysis.problems.extend(self.drawing.finish())
            self.drawing = None
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
    write_file(out / "index.md", markdown.index_markdown(analysis, links))
    html_links = {i: link.replace("report.md", "report.html") for i, link in links.items()}
    order = worst_first(analysis)
    write_file(out / "index.html", html.index_html(analysis, html_links, order))
    doc = analysis_dict(analysis)
    assert doc["schema"] == SCHEMA
    write_file(out / "report.json", json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return {"index": out / "index.md", "html": out / "index.html", "json": out / "report.json"}


__all__ = [
    "Drawing",
    "INDEX_FILES",
    "RUN_FILES",
    "ReportTree",
    "RunFolders",
    "check_out",
    "folder_names",
    "slug",
    "write_all",
    "write_index",
    "write_file",
    "write_png",
    "write_run",
    "run_dict",
]
