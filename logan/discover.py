"""Find runs under the paths a user gives: walk once, then let each producer claim what it
recognises (logan.producers), by content where names are not enough.

What is found is a RunSpec per work_dir-like place (an mmengine work_dir with all its sessions, a
folder of mmcv 1.x logs, an HF output dir, a Lightning version folder, a LLaMA-Factory output, a
folder of event files); loading splits it into attempts. Files that look like training logs but
that no producer claims are listed in `Discovery.unread`, so nothing is dropped silently.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from logan.errors import NoRunsFound
from logan.producers import PRODUCERS
from logan.producers.interface import (
    LFS_REASON,
    Listing,
    RunSpec,
    SessionSpec,
    file_size,
    is_events,
    is_lfs_pointer,
)
from logan.producers.sniff import json_lines_kind, text_log_kind

__all__ = ["Discovery", "RunSpec", "SessionSpec", "discover", "printable"]

# Files any reader may open (besides event files): only regular files of these kinds are kept.
LOG_SUFFIXES = (".json", ".jsonl", ".log", ".txt", ".csv", ".py", ".yaml")
# Trees deeper than this are almost certainly symlink games or not training output.
MAX_DEPTH = 32


@dataclass
class Discovery:
    runs: list[RunSpec]
    problems: list[tuple[str, str]]  # (path, message): unreadable folders and the like
    # Files that look like training logs but belong to no run: (path, reason).
    unread: list[tuple[str, str]] = field(default_factory=list)


def printable(text: str) -> str:
    """A path for people: bytes of a file name that are not UTF-8 (which Python keeps as lone
    surrogates) become U+FFFD, so that every report can write, print and draw the name."""
    if text.isascii():
        return text
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def _display(path: Path, given: Path, given_text: str) -> str:
    """The path as the user would write it: relative to what they typed."""
    try:
        rel = path.relative_to(given)
    except ValueError:
        return printable(str(path))
    if str(rel) == ".":
        return printable(given_text.rstrip("/") or given_text)
    return printable(str(Path(given_text) / rel))


def _walk(top: Path, problems: list[tuple[str, str]]) -> list[tuple[Path, list[str], list[str]]]:
    out: list[tuple[Path, list[str], list[str]]] = []
    seen: set[tuple[int, int]] = set()

    def onerror(err: OSError) -> None:
        problems.append(
            (str(err.filename), f"cannot read folder ({err.strerror}); check permissions")
        )

    real_top = os.path.realpath(top)
    for dirpath, dirnames, filenames in os.walk(top, onerror=onerror, followlinks=True):
        p = Path(dirpath)
        try:
            st = os.stat(p)
        except OSError:
            dirnames[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            dirnames[:] = []  # a symlink loop, or a folder already walked through another link
            continue
        if p != top and os.path.islink(p) and _is_above(os.path.realpath(p), real_top):
            # A link to `/` or to a parent would walk the whole disk (and /proc) for nothing.
            dirnames[:] = []
            problems.append((str(p), "links to a folder above the one given: not followed"))
            continue
        if len(p.relative_to(top).parts) > MAX_DEPTH:
            dirnames[:] = []
            problems.append(
                (str(p), f"more than {MAX_DEPTH} folders deep: not searched; give it directly")
            )
            continue
        seen.add(key)
        dirnames.sort()
        out.append((p, dirnames, sorted(_regular_logs(p, filenames, problems))))
    return out


def _is_above(folder: str, real_top: str) -> bool:
    """Is `folder` the given folder itself or one that contains it (both resolved)?"""
    return real_top == folder or real_top.startswith(folder.rstrip(os.sep) + os.sep)


def _is_log_name(name: str) -> bool:
    return is_events(name) or name.endswith(LOG_SUFFIXES)


def _regular_logs(folder: Path, names: list[str], problems: list[tuple[str, str]]) -> list[str]:
    """Drop log-named entries that are not regular files: reading a pipe would block forever and
    a link to /dev/zero would never end."""
    kept = []
    for name in names:
        if _is_log_name(name):
            try:
                regular = stat.S_ISREG(os.stat(folder / name).st_mode)
            except OSError:
                regular = False
            if not regular:
                problems.append(
                    (str(folder / name), "not a regular file (a pipe, device or broken link)")
                )
                continue
        kept.append(name)
    return kept


def discover(paths: list[str | Path]) -> Discovery:
    """Find every run below the given files or folders."""
    runs: list[RunSpec] = []
    problems: list[tuple[str, str]] = []
    unread: list[tuple[str, str]] = []
    for given_text in map(str, paths):
        given = Path(given_text)
        if not given.exists():
            problems.append((given_text, "no such file or folder; check the path"))
            continue
        try:
            found = _discover_one(given, given_text, problems, unread)
        except NoRunsFound as exc:  # one odd argument must not stop the others
            problems.append((given_text, str(exc).removeprefix(f"{given_text}: ")))
            continue
        runs.extend(found)
    # The same run reached from two arguments is analysed once.
    unique: dict[Path, RunSpec] = {}
    for r in runs:
        unique.setdefault(r.root.resolve(), r)
    return Discovery(
        list(unique.values()),
        [(printable(p), m) for p, m in problems],
        [(printable(p), m) for p, m in unread],
    )


def _discover_one(
    given: Path,
    given_text: str,
    problems: list[tuple[str, str]],
    unread: list[tuple[str, str]],
) -> list[RunSpec]:
    if given.is_file():
        return _single_file(given, given_text)
    if not given.is_dir():
        problems.append((given_text, "not a regular file or folder (a pipe or device)"))
        return []
    listing = Listing(
        given, given_text, _walk(given, problems), lambda p: _display(p, given, given_text)
    )
    runs: list[RunSpec] = []
    for producer in PRODUCERS:
        runs.extend(producer.find(listing))
    unread.extend((listing.display(p), why) for p, why in _unclaimed_logs(listing))
    runs.sort(key=lambda r: r.display)
    return runs


# Names that are training logs whatever their content; other files count when their content is.
_LOG_NAMES = ("scalars.json", "metrics.csv", "trainer_state.json", "trainer_log.jsonl")


def _unclaimed_logs(listing: Listing) -> list[tuple[Path, str]]:
    """Files that look like training logs (by name or content) that no run took, with why."""
    out = []
    for folder in listing.folders():
        for name in sorted(listing.files(folder)):
            p = folder / name
            if p in listing.used:
                continue
            looks = (
                is_events(name)
                or name in _LOG_NAMES
                or name.endswith(".log.json")
                or (name.endswith((".log", ".txt")) and text_log_kind(listing.head(p)))
                or (name.endswith((".json", ".jsonl")) and json_lines_kind(listing.head(p)))
            )
            if not looks:
                continue
            if file_size(p) == 0:
                out.append((p, "empty file"))
            elif is_lfs_pointer(listing.head(p)):
                out.append((p, LFS_REASON))
            else:
                out.append(
                    (p, "not part of any run logan recognises (copy it into its run's folder)")
                )
    return out


def _single_file(path: Path, given_text: str) -> list[RunSpec]:
    """A file given directly is a run of its own, read by its content (or its name)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise NoRunsFound(
            f"{given_text}: cannot read file ({exc.strerror}); check permissions"
        ) from exc
    for producer in PRODUCERS:
        session = producer.from_file(path, head)
        if session is not None:
            return [RunSpec(path, printable(given_text), producer.name, [session])]
    # Damaged beyond recognition: read by its name, so the reader can say what is wrong.
    by_name = {".json": ("mmengine", "mmengine_json"), ".log": ("mmengine", "mmengine_log")}
    if path.suffix in by_name:
        producer_name, kind = by_name[path.suffix]
        session = SessionSpec(path.name)
        session.add(kind, path)
        return [RunSpec(path, printable(given_text), producer_name, [session])]
    raise NoRunsFound(
        f"{given_text}: not a log file logan knows (mmengine .json/.log, mmcv .log.json, "
        "events.out.tfevents.*, trainer_state.json, trainer_log.jsonl, metrics.csv); "
        "give a file or folder of those"
    )
