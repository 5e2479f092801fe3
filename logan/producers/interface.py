"""What every producer (a framework that writes training logs) provides, and what it gets.

Discovery walks the given paths once into a `Listing`; each producer in the registry then claims
the folders and files it recognises (`Producer.find`) and returns `RunSpec`s: a work_dir-like
place with its sessions, each session a set of files by kind. Loading asks the same producer to
read a session (`Producer.read`) and to state the facts that classify it (`Producer.facts`):
whether it resumed, continued from its own checkpoint, only tested. Everything a producer knows
lives in its own module; adding one is a new module and a line in `logan.producers.PRODUCERS`.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pandas as pd

    from logan.readers.base import ReadResult

TIMESTAMP = re.compile(r"^\d{8}_\d{6}$")
TIMESTAMP_IN_NAME = re.compile(r"(?<!\d)(\d{8}_\d{6})(?!\d)")
EVENTS_PREFIX = "events.out.tfevents."
# How much of a file content sniffing reads: enough for a log's header line or a JSON record.
HEAD_BYTES = 8192
# File heads kept at once (8 KiB each): producers look at a file one after another, so a small
# store serves them all.
MAX_HEADS = 512


def is_events(name: str) -> bool:
    return name.startswith(EVENTS_PREFIX)


def event_time(name: str) -> str | None:
    """The creation time an event file's name carries, as a sortable `YYYYmmdd_HHMMSS` (UTC)."""
    parts = name[len(EVENTS_PREFIX) :].split(".")
    try:
        stamp = int(parts[0])
        return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%Y%m%d_%H%M%S")
    except (ValueError, IndexError, OverflowError, OSError):
        return None


@dataclass
class SessionSpec:
    """One session's files by kind (`mmengine_json`, `mmengine_log`, `events`, `config`, ...).

    `order` sorts sessions in time (a timestamp from a name when there is one); `folder` is the
    session's own folder when it has one (None for sessions flattened into a work_dir).
    """

    name: str
    files: dict[str, list[Path]] = field(default_factory=dict)
    order: str = ""
    folder: Path | None = None

    def add(self, kind: str, path: Path) -> None:
        self.files.setdefault(kind, []).append(path)

    def all_files(self) -> list[Path]:
        return [p for ps in self.files.values() for p in ps]


@dataclass
class RunSpec:
    """A place holding one or more training sessions of one producer: a work_dir, a Lightning
    version folder, an HF output dir, ... Loading splits it into attempts (see logan.load)."""

    root: Path
    display: str
    producer: str
    sessions: list[SessionSpec]
    config_paths: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class SessionFacts:
    """What a session's own config says about how it began (None: the config does not say)."""

    resume: bool | None = None
    load_from: str | None = None
    # The config as data and where it came from (a file, or the text printed in a log).
    config: dict[str, Any] | None = None
    config_text: str | None = None
    config_path: str | None = None
    # Why the session's own config could not be read (a message naming the file and line).
    config_error: str | None = None


class Listing:
    """The walked tree under one given path: folders, their log-like files, and what is claimed.

    Producers run in registry order; a folder or file one producer claims is not offered to the
    ones after it, so the most specific recogniser goes first.
    """

    def __init__(
        self,
        given: Path,
        given_text: str,
        walked: list[tuple[Path, list[str], list[str]]],
        display: Callable[[Path], str],
    ) -> None:
        self.given = given
        self.given_text = given_text
        self.by_dir: dict[Path, set[str]] = {p: set(files) for p, _dirs, files in walked}
        self.order = [p for p, _d, _f in walked]
        self.children: dict[Path, list[Path]] = {}
        for p in self.order:
            self.children.setdefault(p.parent, []).append(p)
        self.claimed: set[Path] = set()  # folders whose files and subfolders belong to a run
        self.taken: set[Path] = set()  # folders whose own files belong to a run (not below)
        self.used: set[Path] = set()  # single files that belong to a run
        self.display = display
        self._heads: dict[Path, bytes] = {}

    def folders(self) -> Iterator[Path]:
        return iter(self.order)

    def files(self, folder: Path) -> set[str]:
        return self.by_dir.get(folder, set())

    def has(self, folder: Path) -> bool:
        return folder in self.by_dir

    def subtree(self, root: Path) -> list[Path]:
        out: list[Path] = []
        stack = [root]
        while stack:
            p = stack.pop()
            out.append(p)
            stack.extend(reversed(self.children.get(p, [])))
        return out

    def is_claimed(self, folder: Path) -> bool:
        return (
            folder in self.claimed
            or folder in self.taken
            or any(a in self.claimed and a != self.given for a in folder.parents)
        )

    def head(self, path: Path) -> bytes:
        """The first bytes of a file (b"" when it cannot be read), kept for the few producers that
        look at the same file; the store is bounded, so a tree of 200,000 runs costs no more."""
        if path not in self._heads:
            if len(self._heads) >= MAX_HEADS:
                self._heads.clear()
            try:
                with open(path, "rb") as fh:
                    self._heads[path] = fh.read(HEAD_BYTES)
            except OSError:
                self._heads[path] = b""
        return self._heads[path]

    def claim(self, spec: RunSpec) -> None:
        for s in spec.sessions:
            self.used.update(s.all_files())
            if s.folder is not None:
                self.taken.add(s.folder)
        self.used.update(spec.config_paths)


class Producer:
    """A framework that writes training logs: how to find its runs and read its sessions."""

    name: ClassVar[str]
    # file kind -> (module, function): imported on first use, so a broken reader costs only the
    # runs that need it and `logan --help` stays fast.
    readers: ClassVar[dict[str, tuple[str, str]]] = {}
    # Kinds that give the scalars, best first; kinds read only for the facts they state.
    scalar_kinds: ClassVar[tuple[str, ...]] = ()
    meta_kinds: ClassVar[tuple[str, ...]] = ()

    def find(self, listing: Listing) -> list[RunSpec]:
        """The runs this producer recognises in the listing (claim them with listing.claim)."""
        return []

    def from_file(self, path: Path, head: bytes) -> SessionSpec | None:
        """A file given directly: a one-session spec when the file is this producer's."""
        return None

    def reader(self, kind: str) -> Callable[..., ReadResult]:
        module, func = self.readers[kind]
        return getattr(importlib.import_module(module), func)

    def adjust(self, kind: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Producer quirks on a frame read from a file of `kind` (default: none)."""
        return frame

    def facts(self, session: SessionSpec, meta: dict[str, Any]) -> SessionFacts:
        """How the session began, from its own config (default: nothing known)."""
        return SessionFacts(config=meta.get("config"))

    def is_own_checkpoint(self, load_from: str, spec: RunSpec) -> bool:
        """Does `load_from` name a checkpoint an earlier session of this run's folder wrote?"""
        return False


def order_key(name: str, names: list[str]) -> str:
    """A session's place in time: the timestamp in its name, else in one of its files' names."""
    m = TIMESTAMP_IN_NAME.search(name)
    if m:
        return m.group(1)
    for n in sorted(names):
        m = TIMESTAMP_IN_NAME.search(n)
        if m:
            return m.group(1)
        if is_events(n):
            t = event_time(n)
            if t:
                return t
    return ""


def file_size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1


# What Git LFS leaves in place of a file that was not fetched (a clone without `git lfs pull`).
LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"
LFS_REASON = "a Git LFS pointer, not the file itself: fetch it with `git lfs pull`"


def is_lfs_pointer(head: bytes) -> bool:
    """Is this the head of a Git LFS pointer file (a repository's log committed through LFS
    and cloned without fetching it)?"""
    return head.startswith(LFS_POINTER)
