"""Write report folders: one sub-folder per run (report.md, report.json, PNGs) and an index.

Output names are derived from run paths but sanitised, so nothing is ever written outside `--out`
whatever a run folder is called (`../`, absolute paths, very long names); no file or folder inside
`--out` is written through a symbolic link (one planted there could point anywhere), and `--out`
itself is checked before the analysis, so that an unusable one costs seconds, not the whole run.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from logan.errors import OutputError
from logan.model import Analysis, RunResult
from logan.report import html, markdown, plots
from logan.report.serialize import SCHEMA, analysis_dict, run_dict
from logan.textsafe import visible, visible_block

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
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
    buf = io.BytesIO()
    plots.save(fig, buf)
    data = buf.getvalue()
    write_file(path, data)
    return data


def make_folder(folder: Path) -> None:
    """Create a run's report folder inside --out; one that is a link is refused, not followed."""
    _refuse_link(folder)
    folder.mkdir(parents=True, exist_ok=True)


def slug(path: str) -> str:
    """A safe, readable, unique folder name for a run path."""
    parts = [p for p in re.split(r"[\\/]+", path) if p not in ("", ".", "..")]
    base = _UNSAFE.sub("_", "__".join(parts)).strip("._") or "run"
    if len(base) > MAX_NAME or base != "__".join(parts):
        digest = hashlib.sha1(path.encode("utf-8", "replace")).hexdigest()[:8]
        base = f"{base[: MAX_NAME - 9]}-{digest}"
    return base


def write_run(result: RunResult, folder: Path) -> dict[str, Path]:
    """Write one run's report into `folder` (the caller's; `make_folder` for one inside --out);
    returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    links: dict[str, str] = {}
    pngs: dict[str, bytes] = {}
    for name, build in (
        ("lr", plots.lr_figure),
        ("loss", plots.loss_figure),
        ("scalars", plots.scalars_figure),
    ):
        fig = build(result)
        if fig is None:
            continue
        target = folder / f"{name}.png"
        pngs[name] = write_png(fig, target)
        written[name] = target
        links[name] = target.name
    md = folder / "report.md"
    write_file(md, markdown.run_markdown(result, links))
    written["markdown"] = md
    images = {name: written[name] for name in links}
    page = folder / "report.html"
    write_file(page, html.run_html(result, images, pngs))
    written["html"] = page
    js = folder / "report.json"
    doc = analysis_dict(Analysis([result], []))
    write_file(js, json.dumps(doc, indent=2, allow_nan=False) + "\n")
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

    def __post_init__(self) -> None:
        # Before the analysis: a link planted under a run's (predictable) folder name is refused
        # now, not after an hour of work. `write_file` still checks each file as it writes it.
        for name in self.names:
            _refuse_link(self.out / name)

    def __call__(self, result: RunResult, index: int) -> None:
        # Named by the run's path: a place may hold several attempts, known only once read.
        folder = self.out / slug(result.run.path)
        make_folder(folder)
        (folder / CURRENT).unlink(missing_ok=True)
        write_run(result, folder)

    def is_current(self, paths: list[str], key: str) -> bool:
        """These runs' folders were written for this cache key and still hold their reports (so
        cached, unchanged runs are not drawn again)."""
        for path in paths:
            folder = self.out / slug(path)
            try:
                mark = (folder / CURRENT).read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError):
                return False
            if mark != key or not all((folder / name).is_file() for name in REPORT_FILES):
                return False
        return True

    def mark_current(self, paths: list[str], key: str) -> None:
        for path in paths:
            write_file(self.out / slug(path) / CURRENT, key)


def write_all(analysis: Analysis, out: Path) -> dict[str, Path]:
    """One folder per run plus index.md and an all-runs report.json in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    names = folder_names([r.run.path for r in analysis.results])
    for result, name in zip(analysis.results, names, strict=True):
        make_folder(out / name)
        write_run(result, out / name)
    return write_index(analysis, out, names)


def write_index(analysis: Analysis, out: Path, names: list[str]) -> dict[str, Path]:
    """index.md, index.html and the all-runs report.json, linking each run's folder."""
    out.mkdir(parents=True, exist_ok=True)
    links = {i: f"{name}/report.md" for i, name in enumerate(names)}
    write_file(out / "index.md", markdown.index_markdown(analysis, links))
    html_links = {i: link.replace("report.md", "report.html") for i, link in links.items()}
    order = markdown.worst_first(analysis)
    write_file(out / "index.html", html.index_html(analysis, html_links, order))
    doc = analysis_dict(analysis)
    assert doc["schema"] == SCHEMA
    write_file(out / "report.json", json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return {"index": out / "index.md", "html": out / "index.html", "json": out / "report.json"}


__all__ = [
    "INDEX_FILES",
    "RUN_FILES",
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
