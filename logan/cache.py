"""Results per run kept between `logan check` invocations, like ruff's cache: a shared work_dirs/
checked every morning is mostly unchanged runs, each answered from here in about a millisecond.

An entry is keyed by everything its verdict depends on: every input file of the run and every
file beside them (path, size, modification time: a log appended, a config edited, a file added
or removed each change the key), logan's version and its own source files, the rules selected
and the thresholds. Entries are written atomically (a temporary file renamed over) and verified
on read (magic, key, length and SHA-256 of the payload); anything wrong is a miss, and the run is
analysed and its entry rewritten. The payload is a pickle, so entries are only read from a cache
folder and files owned by the current user that nobody else can write.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import logan

ENV = "LOGAN_CACHE_DIR"
NO_CACHE_ENV = "LOGAN_NO_CACHE"
DEFAULT_DIR = ".logan_cache"
MAGIC = b"LOGAN-CACHE-1\n"
_DIGEST = 32  # bytes of SHA-256


def spec_files(spec: Any) -> list[tuple[str, Path]]:
    """Every file a run spec names, each with its role (`<session>/<kind>`, `config`), in order.

    The one place that knows the spec's shape: discovery decides what a run reads.
    """
    files: list[tuple[str, Path]] = [("config", Path(p)) for p in spec.config_paths]
    for session in spec.sessions:
        for kind, paths in session.files.items():
            files += [(f"{session.name}/{kind}", Path(p)) for p in paths]
    return files


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """logan's version and the size and mtime of its source files: an edited checkout (the
    version does not change between releases) never answers with an older logan's verdicts."""
    root = Path(logan.__file__).parent
    parts = [logan.__version__]
    for path in sorted(root.rglob("*.py")):
        st = path.stat()
        parts.append(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _stat(path: Path) -> list[Any]:
    try:
        st = path.stat()
    except OSError:
        return [str(path), None]
    return [str(path), st.st_size, st.st_mtime_ns]


def _beside(folders: Iterable[Path]) -> list[list[Any]]:
    """Every regular file in the folders that hold a run's inputs: readers also open files
    beside their input (Lightning's hparams.yaml), and a file added there may be read next."""
    out: list[list[Any]] = []
    for folder in sorted(set(folders)):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            out.append([str(folder), None])
            continue
        for entry in entries:
            try:
                if entry.is_file():
                    st = entry.stat()
                    out.append([entry.path, st.st_size, st.st_mtime_ns])
            except OSError:
                out.append([entry.path, None])
    return out


def _flat_thresholds(thresholds: Mapping[str, Any]) -> list[tuple[str, float]]:
    """("LS002.SPIKE_Z", 6.0) pairs from {"LS002": {"SPIKE_Z": 6}} or {"LS002.SPIKE_Z": 6}."""
    out: list[tuple[str, float]] = []
    for key, value in thresholds.items():
        if isinstance(value, Mapping):
            out.extend((f"{key}.{name}", float(v)) for name, v in value.items())
        else:
            out.append((str(key), float(value)))
    return out


def run_key(spec: Any, rules: Iterable[str], thresholds: Mapping[str, Any]) -> str:
    """The cache key of one run under the given rule codes and threshold overrides."""
    files = spec_files(spec)
    doc = {
        "logan": code_fingerprint(),
        "run": [str(spec.display), str(spec.producer), str(spec.root)],
        "files": [[role, *_stat(path)] for role, path in files],
        "beside": _beside(path.parent for _, path in files),
        "rules": sorted(rules),
        "thresholds": sorted(_flat_thresholds(thresholds)),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _safe(path: Path) -> bool:
    """Owned by us and writable by nobody else (a planted pickle would run code)."""
    try:
        st = path.stat()
    except OSError:
        return False
    own = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return own and not st.st_mode & 0o022


@dataclass(frozen=True)
class Cache:
    """A cache folder; picklable, so worker processes of `--jobs` use it too."""

    folder: Path

    @classmethod
    def default(cls) -> Cache | None:
        """`$LOGAN_CACHE_DIR`, else `.logan_cache/` in the current folder; None when
        `$LOGAN_NO_CACHE` is set (as `--no-cache`, for scripts and test suites)."""
        if os.environ.get(NO_CACHE_ENV):
            return None
        return cls(Path(os.environ.get(ENV) or DEFAULT_DIR).absolute())

    def _entry(self, key: str) -> Path:
        return self.folder / f"{key}.bin"

    def get(self, key: str) -> Any | None:
        """The stored value for `key`, or None (missing, foreign, damaged or unreadable)."""
        path = self._entry(key)
        if not _safe(self.folder) or not _safe(path):
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        head = MAGIC + key.encode() + b"\n"
        if not data.startswith(head) or len(data) < len(head) + _DIGEST:
            return None
        digest = data[len(head) : len(head) + _DIGEST]
        payload = data[len(head) + _DIGEST :]
        if hashlib.sha256(payload).digest() != digest:
            return None
        try:
            return pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a bad entry is a miss, never an error
            return None

    def put(self, key: str, value: Any) -> None:
        """Store atomically: a reader sees the old entry, the new one, or none; never a part.
        A cache that cannot be written (read-only folder, full disk) is silently skipped."""
        try:
            self._prepare()
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            data = MAGIC + key.encode() + b"\n" + hashlib.sha256(payload).digest() + payload
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".bin")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, self._entry(key))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except Exception:  # noqa: BLE001 - the cache only ever saves time
            return

    def _prepare(self) -> None:
        if self.folder.is_dir():
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # As ruff does: git ignores it, backup tools skip it.
        (self.folder / ".gitignore").write_text("# Created by logan.\n*\n", encoding="utf-8")
        (self.folder / "CACHEDIR.TAG").write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n# Created by logan.\n",
            encoding="utf-8",
        )


def lookup(
    cache: Cache | None, spec: Any, rules: Iterable[str], thresholds: Mapping[str, Any]
) -> tuple[str | None, Any | None]:
    """(key, stored value) for one run spec; (None, None) without a cache or on any error."""
    if cache is None:
        return None, None
    try:
        key = run_key(spec, rules, thresholds)
        return key, cache.get(key)
    except Exception:  # noqa: BLE001 - the cache only ever saves time, it never costs a run
        return None, None


def is_current(sink: Any, paths: list[str], key: str | None) -> bool:
    """Whether the sink's output for these run paths was made for `key` and is still there (a
    sink says so with `is_current(paths, key)`; one that cannot is always fed again)."""
    check = getattr(sink, "is_current", None)
    try:
        return key is not None and check is not None and bool(check(paths, key))
    except Exception:  # noqa: BLE001
        return False


def store(
    cache: Cache | None,
    key: str | None,
    value: Any,
    sink: Any = None,
    paths: Sequence[str] = (),
) -> None:
    """Keep a fresh value, and tell the sink its output for `paths` is current for `key`."""
    if cache is None or key is None:
        return
    cache.put(key, value)
    mark = getattr(sink, "mark_current", None)
    if mark is not None:
        try:
            mark(list(paths), key)
        except Exception:  # noqa: BLE001 - an unmarked report is only drawn again next time
            return


__all__ = ["Cache", "code_fingerprint", "is_current", "lookup", "run_key", "spec_files", "store"]
