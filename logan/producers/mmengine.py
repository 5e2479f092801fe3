"""mmengine (mmdet 3, mmpretrain, mmseg 1, mmpose 1, mmaction2 1, XTuner): work_dirs as people
leave them.

mmengine writes one *session* folder per process, `work_dir/<timestamp>/`, holding the text log
`<ts>.log` and `vis_data/` (`<ts>.json` and `scalars.json` scalars, `config.py`, event files);
the config is also dumped at work_dir level as `<name>.py` (each session overwrites it). People
rename session folders (`train_log/`), commit a bare `vis_data/`, flatten a work_dir into a
repository root (`<ts>.log`, `<ts>.json`, `scalars.json`, `config.py` side by side), keep only
event files, or point `scalar_save_file` elsewhere. So a session is recognised by what it holds,
and text logs by their content (see logan.producers.sniff), never by their name alone.

Each session's own config (`vis_data/config.py`, or the config the text log prints) says how it
began: `resume=True` restores the step counter and the scheduler; `load_from` a checkpoint this
work_dir wrote restarts the schedule from those weights (LR004's case); anything else is a fresh
start (logan.load splits attempts there).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from logan.producers.interface import (
    TIMESTAMP,
    TIMESTAMP_IN_NAME,
    Listing,
    Producer,
    RunSpec,
    SessionFacts,
    SessionSpec,
    event_time,
    file_size,
    is_events,
    order_key,
)
from logan.producers.sniff import json_lines_kind, text_log_kind

TEXT_SUFFIXES = (".log", ".txt")
# A checkpoint a training loop writes into its own work_dir (mmengine CheckpointHook names).
_OWN_CHECKPOINT = re.compile(r"^(?:epoch_\d+|iter_\d+|latest|last|best_.*)\.pth$")
# A config file smaller than this is an empty dump (an MMEngine Runner built in Python writes 1
# byte), not a config.
MIN_CONFIG_BYTES = 16


class MMEngine(Producer):
    name = "mmengine"
    readers = {
        "mmengine_json": ("logan.readers.mmengine_json", "read"),
        "mmengine_log": ("logan.readers.mmengine_text", "read"),
        "events": ("logan.readers.tensorboard", "read"),
    }
    scalar_kinds = ("mmengine_json", "events", "mmengine_log")
    # Text logs state the epoch length and the config; event files carry the config too.
    meta_kinds = ("mmengine_log",)

    def find(self, listing: Listing) -> list[RunSpec]:
        found: list[tuple[Path, SessionSpec, bool]] = []  # (folder, session, named by time)
        for folder in listing.folders():
            if listing.is_claimed(folder):
                continue
            found.extend(self._session_folder(listing, folder))
        groups = self._group(listing, found)
        # Flattened sessions (logs and scalars side by side) and work_dir-level event files.
        for folder in listing.folders():
            if (listing.is_claimed(folder) and folder not in groups) or folder.name == "vis_data":
                continue
            flat = self._flat_sessions(listing, folder, folder in groups)
            if flat:
                groups.setdefault(folder, []).extend(flat)
        _join_moved_scalars(groups)
        return [
            workdir_spec(listing, workdir, self.name, sessions)
            for workdir, sessions in sorted(groups.items())
        ]

    def _text_logs(self, listing: Listing, folder: Path, names: set[str]) -> list[str]:
        return sorted(
            n
            for n in names
            if n.endswith(TEXT_SUFFIXES)
            and text_log_kind(listing.head(folder / n)) == "mmengine_log"
        )

    def _session_folder(
        self, listing: Listing, folder: Path
    ) -> list[tuple[Path, SessionSpec, bool]]:
        """A folder is a session when it holds `vis_data/`, or is named by a timestamp and holds
        an mmengine text log; a bare `vis_data/` given directly is a session of its own."""
        names = listing.files(folder)
        if any(n.endswith(".log.json") for n in names):
            return []  # mmcv 1.x keeps `<ts>.log.json` in the work_dir itself
        bare_vis = folder.name == "vis_data"
        if bare_vis and folder != listing.given and listing.has(folder.parent):
            return []  # seen from its session folder
        vis = folder if bare_vis else folder / "vis_data"
        vis_names = listing.files(vis) if listing.has(vis) else None
        logs = [] if bare_vis else self._text_logs(listing, folder, names)
        named = bool(TIMESTAMP.match(folder.name))
        if named and f"{folder.name}.log" in names and f"{folder.name}.log" not in logs:
            logs.append(f"{folder.name}.log")  # mmengine's own name, even when empty or damaged
        if vis_names is None and not (named and logs):
            return []
        vis_names = vis_names or set()
        events = sorted((n for n in vis_names if is_events(n)), key=_event_key)
        scalars = self._scalars_file(listing, vis, vis_names, folder.name)
        if len(events) > 1 and not scalars and not logs:
            # Several processes wrote here (a shared `vis_data/` reused by every attempt): each
            # event file is a session of its own.
            out = []
            for e in events:
                s = SessionSpec(e, order=event_time(e) or "", folder=None)
                s.add("events", vis / e)
                out.append((folder, s, False))
            listing.taken.update((folder, vis))
            listing.used.update(vis / e for e in events)
            return out
        spec = SessionSpec(folder.name, folder=folder)
        for n in logs:
            spec.add("mmengine_log", folder / n)
        if scalars:
            spec.add("mmengine_json", vis / scalars)
            if "scalars.json" in vis_names:  # the same records again (mmengine writes both)
                listing.used.add(vis / "scalars.json")
        for e in events:
            spec.add("events", vis / e)
        if "config.py" in vis_names:
            spec.add("config", vis / "config.py")
        spec.order = order_key(folder.name, sorted(names | vis_names))
        listing.taken.update((folder, vis))
        listing.used.update(spec.all_files())
        return [(folder, spec, named)]

    def _scalars_file(
        self, listing: Listing, vis: Path, names: set[str], session: str
    ) -> str | None:
        """The session's scalars: `<ts>.json` (its own), else `scalars.json`, else any JSON of
        mmengine scalars by content (a renamed folder keeps its original `<ts>.json`)."""
        if f"{session}.json" in names:
            return f"{session}.json"
        own = sorted(n for n in names if TIMESTAMP.match(n.removesuffix(".json")))
        for n in own + (["scalars.json"] if "scalars.json" in names else []):
            if json_lines_kind(listing.head(vis / n)) == "mmengine_json":
                return n
        return None

    def _group(
        self, listing: Listing, found: list[tuple[Path, SessionSpec, bool]]
    ) -> dict[Path, list[SessionSpec]]:
        """Session folders group into their parent work_dir when the parent is one: the sessions
        are named by time, there are several, or the parent holds work_dir files (a dumped config,
        `last_checkpoint`). A lone renamed session folder is a work_dir of its own."""
        by_parent: dict[Path, list[tuple[Path, SessionSpec, bool]]] = {}
        for folder, spec, named in found:
            by_parent.setdefault(folder.parent, []).append((folder, spec, named))
        groups: dict[Path, list[SessionSpec]] = {}
        for parent, items in by_parent.items():
            folders = {f for f, _s, _n in items}
            parent_names = listing.files(parent)
            workdir_files = "last_checkpoint" in parent_names or any(
                n.endswith(".py") for n in parent_names
            )
            for folder, spec, named in items:
                own = folder == listing.given or not listing.has(parent)
                if not own and (named or len(folders) > 1 or workdir_files):
                    groups.setdefault(parent, []).append(spec)
                else:
                    groups.setdefault(folder, []).append(spec)
        return groups

    def _flat_sessions(self, listing: Listing, folder: Path, is_workdir: bool) -> list[SessionSpec]:
        """Logs and scalars directly in `folder`: one session per text log (keyed by the
        timestamp in its name), its `<ts>.json` beside it; any other JSON of scalars
        (`scalars.json`, possibly a concatenation of several sessions) as a session of its own,
        which loading drops where it repeats another; event files as sessions when `folder` is
        a work_dir."""
        names = listing.files(folder)
        if any(n.endswith(".log.json") for n in names):
            return []
        logs = [] if folder.name == "vis_data" else self._text_logs(listing, folder, names)
        sessions: dict[str, SessionSpec] = {}
        for n in logs:
            p = folder / n
            if p in listing.used:
                continue
            m = TIMESTAMP_IN_NAME.search(n)
            key = m.group(1) if m else Path(n).stem
            s = sessions.setdefault(key, SessionSpec(Path(n).stem, order=order_key(n, [])))
            s.add("mmengine_log", p)
        if not logs and not is_workdir and folder.name != "vis_data":
            scalars = [
                n
                for n in names
                if n.endswith(".json")
                and json_lines_kind(listing.head(folder / n)) == "mmengine_json"
            ]
            if not scalars:
                return []
        out = list(sessions.values())
        for n in sorted(names):
            p = folder / n
            if p in listing.used or not n.endswith(".json"):
                continue
            if json_lines_kind(listing.head(p)) != "mmengine_json":
                continue
            stem = n.removesuffix(".json")
            if stem in sessions:
                sessions[stem].add("mmengine_json", p)
            else:
                s = SessionSpec(n, order="")  # a concatenation usually holds the earliest runs
                s.add("mmengine_json", p)
                out.append(s)
        if is_workdir or out:
            for n in sorted((n for n in names if is_events(n)), key=_event_key):
                p = folder / n
                if p not in listing.used:
                    s = SessionSpec(n, order=event_time(n) or "")
                    s.add("events", p)
                    out.append(s)
        return out

    def from_file(self, path: Path, head: bytes) -> SessionSpec | None:
        name = path.name
        spec = SessionSpec(name, order=order_key(name, []))
        if name.endswith(".json") and json_lines_kind(head) == "mmengine_json":
            spec.add("mmengine_json", path)
            return spec
        if text_log_kind(head) == "mmengine_log":
            spec.add("mmengine_log", path)
            return spec
        return None

    def facts(self, session: SessionSpec, meta: dict[str, Any]) -> SessionFacts:
        """The session's own config: `vis_data/config.py`, else the one its text log prints."""
        from logan.config import read_config  # data only, never executed

        error = None
        for path in session.files.get("config", []):
            if file_size(path) < MIN_CONFIG_BYTES:
                continue
            read = read_config(path)
            if read.config is not None:
                return _facts(read.config, read.text, str(path))
            error = read.error
        text = meta.get("config_text")
        if text:
            logs = session.files.get("mmengine_log", [])
            read = read_config(text, name=f"{logs[0]} (its Config: section)" if logs else None)
            if read.config is not None:
                return _facts(read.config, text, None)
            error = error or read.error
        return SessionFacts(config_error=error)

    def is_own_checkpoint(self, load_from: str, spec: RunSpec) -> bool:
        return own_checkpoint(load_from, spec.root)


def _join_moved_scalars(groups: dict[Path, list[SessionSpec]]) -> None:
    """A folder holding nothing but JSON scalars files (no log, no config, no event file, no
    session folder) with exactly one work_dir below it: the files are that work_dir's, written
    where LocalVisBackend's `scalar_save_file` pointed (a repository root, say). They join the
    work_dir's sessions, so that loading reads their records once where they repeat one of its
    sessions, instead of a second run of the same training."""
    lone = {
        folder
        for folder, sessions in groups.items()
        if all(set(s.files) == {"mmengine_json"} and s.folder is None for s in sessions)
    }
    for folder in sorted(lone):
        below = [w for w in groups if w not in lone and folder in w.parents]
        if len(below) == 1:
            groups[below[0]].extend(groups.pop(folder))


def workdir_spec(
    listing: Listing, workdir: Path, producer: str, sessions: list[SessionSpec]
) -> RunSpec:
    """A work_dir's spec (sessions in time order, the configs dumped beside them), claimed."""
    sessions.sort(key=lambda s: (s.order, s.name))
    configs = [
        workdir / f
        for f in sorted(listing.files(workdir))
        if f.endswith(".py") and file_size(workdir / f) >= MIN_CONFIG_BYTES
    ]
    spec = RunSpec(workdir, listing.display(workdir), producer, sessions, configs)
    listing.claim(spec)
    listing.taken.add(workdir)
    return spec


def own_checkpoint(load_from: str, workdir: Path) -> bool:
    """A `load_from` that names a checkpoint of this work_dir: not a URL, a loop-written name
    (`epoch_3.pth`, `iter_800.pth`, `best_*.pth`) in a folder named like the work_dir (or no
    folder at all). Pretrained weights (URLs, `*_20220803-9651cdd7.pth`) are a fresh start."""
    if "://" in load_from:
        return False
    path = PureWindowsPath(load_from) if "\\" in load_from else PurePosixPath(load_from)
    if not _OWN_CHECKPOINT.match(path.name):
        return False
    parent = path.parent.name
    return parent in ("", ".") or parent == workdir.name


def _facts(config: dict[str, Any], text: str | None, path: str | None) -> SessionFacts:
    resume = config.get("resume")
    if config.get("resume_from"):  # mmcv 1.x
        resume = True
    load_from = config.get("load_from")
    return SessionFacts(
        resume=resume if isinstance(resume, bool) else None,
        load_from=load_from if isinstance(load_from, str) and load_from else None,
        config=config,
        config_text=text,
        config_path=path,
    )


def _event_key(name: str) -> tuple[str, str]:
    return (event_time(name) or "", name)
