"""Find runs under the paths a user gives, and decide each one's format. Reads no log contents.

A run is what one training produced: an mmengine work_dir (all its timestamp sessions), a bare
timestamp folder, a folder of mmcv 1.x `*.log.json` files, an HF Trainer output dir, a Lightning
`version_N` folder, or any other folder holding TensorBoard event files.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from logan.errors import NoRunsFound

TIMESTAMP = re.compile(r"^\d{8}_\d{6}$")
EVENTS_PREFIX = "events.out.tfevents."
# Files any reader may open (besides event files): only regular files of these kinds are kept.
LOG_SUFFIXES = (".json", ".log", ".csv", ".py", ".yaml")
# Trees deeper than this are almost certainly symlink games or not training output.
MAX_DEPTH = 32


@dataclass
class SessionSpec:
    """One session's files by kind (`mmengine_json`, `mmengine_log`, `events`, `mmcv_json`, ...)."""

    name: str
    files: dict[str, list[Path]] = field(default_factory=dict)

    def add(self, kind: str, path: Path) -> None:
        self.files.setdefault(kind, []).append(path)


@dataclass
class RunSpec:
    """A run found on disk: where it is, who wrote it and its sessions in order."""

    root: Path
    display: str
    producer: str
    sessions: list[SessionSpec]
    config_paths: list[Path] = field(default_factory=list)


@dataclass
class Discovery:
    runs: list[RunSpec]
    problems: list[tuple[str, str]]  # (path, message): unreadable folders and the like


def _is_events(name: str) -> bool:
    return name.startswith(EVENTS_PREFIX)


def _mmengine_session(
    ts_dir: Path, names: set[str], vis_names: set[str] | None
) -> SessionSpec | None:
    """A timestamp folder is an mmengine session when it holds `<ts>.log` or `vis_data/`.

    `vis_names` are the regular files the walk found in `vis_data/` (None: no such folder).
    """
    spec = SessionSpec(ts_dir.name)
    log = ts_dir / f"{ts_dir.name}.log"
    if f"{ts_dir.name}.log" in names and log.is_file():
        spec.add("mmengine_log", log)
    vis = ts_dir / "vis_data"
    if vis_names is not None:
        entries = sorted(vis_names)
        own = f"{ts_dir.name}.json"
        if own in entries:
            spec.add("mmengine_json", vis / own)
        elif "scalars.json" in entries:
            spec.add("mmengine_json", vis / "scalars.json")
        for e in entries:
            if _is_events(e):
                spec.add("events", vis / e)
        if "config.py" in entries:
            spec.add("config", vis / "config.py")
    # A few writers put event files next to the log.
    for e in sorted(names):
        if _is_events(e):
            spec.add("events", ts_dir / e)
    return spec if spec.files else None


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
    return _is_events(name) or name.endswith(LOG_SUFFIXES)


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
    for given_text in map(str, paths):
        given = Path(given_text)
        if not given.exists():
            problems.append((given_text, "no such file or folder; check the path"))
            continue
        try:
            found = _discover_one(given, given_text, problems)
        except NoRunsFound as exc:  # one odd argument must not stop the others
            problems.append((given_text, str(exc).removeprefix(f"{given_text}: ")))
            continue
        runs.extend(found)
    # The same run reached from two arguments is analysed once.
    unique: dict[Path, RunSpec] = {}
    for r in runs:
        unique.setdefault(r.root.resolve(), r)
    return Discovery(list(unique.values()), [(printable(p), m) for p, m in problems])


def _discover_one(given: Path, given_text: str, problems: list[tuple[str, str]]) -> list[RunSpec]:
    if given.is_file():
        return _single_file(given, given_text)
    if not given.is_dir():
        problems.append((given_text, "not a regular file or folder (a pipe or device)"))
        return []
    walked = _walk(given, problems)
    by_dir = {p: (set(files), dirs) for p, dirs, files in walked}
    # Sub-folders per folder, in walk order: finding what lies under a folder then costs its
    # subtree, not every folder walked (tens of thousands of run folders stay linear).
    children: dict[Path, list[Path]] = {}
    for p in by_dir:
        children.setdefault(p.parent, []).append(p)
    claimed: set[Path] = set()
    runs: list[RunSpec] = []

    def disp(p: Path) -> str:
        return _display(p, given, given_text)

    # 1. mmengine: timestamp folders with a log or vis_data, grouped by their work_dir.
    sessions_by_workdir: dict[Path, list[SessionSpec]] = {}
    for p, (files, _dirs) in by_dir.items():
        if not TIMESTAMP.match(p.name):
            continue
        if any(f.endswith(".log.json") for f in files):
            continue  # mmcv 1.x keeps `<ts>.log.json` in the work_dir itself; handled below
        vis = by_dir.get(p / "vis_data")
        session = _mmengine_session(p, files, None if vis is None else vis[0])
        if session is None:
            continue
        # The work_dir is the parent, unless the user pointed at the timestamp folder itself.
        workdir = p if p == given else p.parent
        sessions_by_workdir.setdefault(workdir, []).append(session)
        claimed.add(p)
        claimed.add(p / "vis_data")
    for workdir, sessions in sorted(sessions_by_workdir.items()):
        sessions.sort(key=lambda s: s.name)
        configs = []
        if workdir != sessions[0].name and workdir in by_dir:
            files = by_dir[workdir][0]
            configs = [workdir / f for f in sorted(files) if f.endswith(".py")]
        runs.append(RunSpec(workdir, disp(workdir), "mmengine", sessions, configs))

    # 2. mmcv 1.x: `<ts>.log.json` (and/or its text twin `<ts>.log`) in the work_dir itself, one
    # session per timestamp. mmengine keeps `<ts>.log` inside a `<ts>/` folder instead, so a
    # timestamped `.log` directly in a non-timestamp folder is mmcv's (pasted without its JSON).
    for p, (files, _dirs) in by_dir.items():
        stems = sorted(
            {f[: -len(".log.json")] for f in files if f.endswith(".log.json")}
            | {
                f[: -len(".log")]
                for f in files
                if f.endswith(".log")
                and TIMESTAMP.match(f[: -len(".log")])
                and p not in claimed
                and not TIMESTAMP.match(p.name)
            }
        )
        if not stems:
            continue
        sessions = []
        for stem in stems:
            s = SessionSpec(stem)
            if f"{stem}.log.json" in files:
                s.add("mmcv_json", p / f"{stem}.log.json")
            if f"{stem}.log" in files:
                s.add("mmcv_log", p / f"{stem}.log")
            sessions.append(s)
        configs = [p / f for f in sorted(files) if f.endswith(".py")]
        runs.append(RunSpec(p, disp(p), "mmcv", sessions, configs))
        claimed.add(p)

    # 3. HF Trainer: `trainer_state.json` at the output dir or in its newest checkpoint.
    for p, (files, _dirs) in by_dir.items():
        if "trainer_state.json" not in files or p in claimed:
            continue
        if (
            p.name.startswith("checkpoint-")
            and "trainer_state.json" in by_dir.get(p.parent, ({},))[0]
        ):
            continue  # the output dir's own state is the complete one
        out_dir = p.parent if p.name.startswith("checkpoint-") else p
        if out_dir in claimed:
            continue
        state = _newest_state(out_dir, by_dir, children)
        s = SessionSpec(out_dir.name)
        s.add("hf_state", state)
        for q in _subtree(out_dir, children):
            if q not in by_dir:
                continue  # the output dir above a checkpoint folder the user gave
            for f in by_dir[q][0]:
                if _is_events(f):
                    s.add("events", q / f)
            claimed.add(q)
        runs.append(RunSpec(out_dir, disp(out_dir), "hf", [s]))
        claimed.add(out_dir)

    # 4. Lightning CSVLogger: `metrics.csv` (+ `hparams.yaml`) in a version folder.
    for p, (files, _dirs) in by_dir.items():
        if "metrics.csv" not in files or p in claimed:
            continue
        s = SessionSpec(p.name)
        s.add("lightning_csv", p / "metrics.csv")
        if "hparams.yaml" in files:
            s.add("hparams", p / "hparams.yaml")
        for f in files:
            if _is_events(f):
                s.add("events", p / f)
        runs.append(RunSpec(p, disp(p), "lightning", [s]))
        claimed.add(p)

    # 5. Any other folder with event files: one run per folder, one session per file.
    for p, (files, _dirs) in by_dir.items():
        if p in claimed or any(a in claimed and a != given for a in p.parents):
            continue
        events = [f for f in files if _is_events(f)]
        if not events:
            continue
        sessions = []
        for f in sorted(events, key=_event_sort_key):
            s = SessionSpec(f)
            s.add("events", p / f)
            sessions.append(s)
        producer = "lightning" if "hparams.yaml" in files else "tensorboard"
        spec = RunSpec(p, disp(p), producer, sessions)
        if "hparams.yaml" in files:
            sessions[0].add("hparams", p / "hparams.yaml")
        runs.append(spec)
    runs.sort(key=lambda r: r.display)
    return runs


def _event_sort_key(name: str) -> tuple[int, str]:
    """Event files sort by the creation time embedded in their name."""
    parts = name[len(EVENTS_PREFIX) :].split(".")
    try:
        return (int(parts[0]), name)
    except (ValueError, IndexError):
        return (0, name)


def _subtree(root: Path, children: dict[Path, list[Path]]) -> list[Path]:
    """`root` and every walked folder below it, in walk order."""
    out: list[Path] = []
    stack = [root]
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(reversed(children.get(p, [])))
    return out


def _newest_state(
    out_dir: Path,
    by_dir: dict[Path, tuple[set[str], list[str]]],
    children: dict[Path, list[Path]],
) -> Path:
    if "trainer_state.json" in by_dir.get(out_dir, (set(), []))[0]:
        return out_dir / "trainer_state.json"
    best: tuple[int, Path] | None = None
    for q in children.get(out_dir, []):
        files = by_dir[q][0]
        if q.name.startswith("checkpoint-") and "trainer_state.json" in files:
            try:
                n = int(q.name.split("-", 1)[1])
            except ValueError:
                n = -1
            if best is None or n > best[0]:
                best = (n, q / "trainer_state.json")
    assert best is not None
    return best[1]


def _single_file(path: Path, given_text: str) -> list[RunSpec]:
    """A file given directly is a run of its own, read by its name's format."""
    name = path.name
    s = SessionSpec(name)
    if name.endswith(".log.json"):
        s.add("mmcv_json", path)
        producer = "mmcv"
    elif _is_events(name):
        s.add("events", path)
        producer = "tensorboard"
    elif name == "trainer_state.json":
        s.add("hf_state", path)
        producer = "hf"
    elif name == "metrics.csv":
        s.add("lightning_csv", path)
        producer = "lightning"
    elif name.endswith(".json"):
        s.add("mmengine_json", path)
        producer = "mmengine"
    elif name.endswith(".log"):
        s.add("mmengine_log", path)
        producer = "mmengine"
    else:
        raise NoRunsFound(
            f"{given_text}: not a log file logan knows (mmengine .json/.log, mmcv .log.json, "
            "events.out.tfevents.*, trainer_state.json, metrics.csv); "
            "give a file or folder of those"
        )
    return [RunSpec(path, printable(given_text), producer, [s])]
