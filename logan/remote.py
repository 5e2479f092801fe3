"""Runs in object storage (`s3://`, `gs://`, any fsspec URL): list once, fetch the logs, analyse
the copy, show the URLs.

A prefix is listed with one recursive listing (`fs.find`, which S3 pages through ListObjectsV2:
no request per file to find runs). Only objects whose names a reader may open are fetched (the
same name filter as discovery), concurrently through fsspec's own batching, into a private
temporary mirror that keeps the layout; other names (checkpoints, `last_checkpoint`) become empty
placeholders, since discovery looks at their names only. The ordinary local pipeline then runs on
the mirror, and every path it reports is mapped back to its URL. An object that fails or vanished
costs only itself: a problem line naming its URL. fsspec and its filesystems are optional extras;
nothing here imports them (nor tempfile) until a URL is given, so local paths pay nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logan.errors import LoganError

if TYPE_CHECKING:
    from logan.model import Analysis

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# The extra that brings each protocol's filesystem (`pip install "logan[NAME]"`).
EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}
# Network bounds: a dead or silent endpoint costs seconds, not forever. Read timeout covers one
# response; attempts include the first try (botocore's and s3fs's retries both follow it).
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0
ATTEMPTS = 3
# An object larger than this is not a training log worth a download (event files of long runs
# stay well below); it becomes a problem line.
MAX_OBJECT_BYTES = 1 << 30
# One fetch batch holds at most this many bytes in memory before it is written to the mirror.
BATCH_BYTES = 64 << 20
BATCH_FILES = 256


def is_url(text: str | Path) -> bool:
    """`s3://...`, `gs://...`: anything with a scheme (a Path never has one)."""
    return isinstance(text, str) and bool(_URL.match(text))


def any_url(paths: str | Path | Sequence[str | Path]) -> bool:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return any(is_url(p) for p in paths)


class MissingExtra(LoganError):
    """The filesystem for a URL's protocol is not installed."""


def _filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem for `url` (bounded timeouts, credentials from the standard places)
    and the path inside it."""
    protocol = url.split("://", 1)[0].lower()
    extra = EXTRAS.get(protocol, protocol)
    hint = (
        f'reading {protocol}:// paths needs the optional dependency: pip install "logan[{extra}]"'
    )
    try:
        import fsspec
    except ImportError as exc:
        raise MissingExtra(f"{url}: {hint}") from exc
    options: dict[str, Any] = {"skip_instance_cache": True}
    if protocol in ("s3", "s3a"):
        options["config_kwargs"] = {
            "connect_timeout": CONNECT_TIMEOUT_S,
            "read_timeout": READ_TIMEOUT_S,
            "retries": {"max_attempts": ATTEMPTS, "mode": "standard"},
        }
    try:
        cls = fsspec.get_filesystem_class(protocol)
        fs = cls(**options) if protocol in ("s3", "s3a") else fsspec.filesystem(protocol)
    except ImportError as exc:
        raise MissingExtra(f"{url}: {hint}") from exc
    except ValueError as exc:  # fsspec: "Protocol not known"
        raise LoganError(
            f"{url}: unknown protocol {protocol}://; give a local path or URL"
        ) from exc
    if hasattr(fs, "retries"):
        # s3fs would retry timeouts itself on top of botocore (attempts multiply): botocore's
        # standard mode alone retries them, so the worst case stays ATTEMPTS x the timeouts.
        fs.retries = 1
    return fs, fs._strip_protocol(url)


def _why(exc: BaseException) -> str:
    """One printable line about a failure (never credentials: botocore does not put them in
    messages; the message is cut at its first line)."""
    if isinstance(exc, FileNotFoundError):
        return "not found (no such bucket, prefix or object); check the URL"
    if isinstance(exc, PermissionError):
        return (
            "access denied; check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, "
            "GOOGLE_APPLICATION_CREDENTIALS) and the bucket's policy"
        )
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = "".join(c if c.isprintable() else "?" for c in text)[:200]
    name = type(exc).__name__
    if "timeout" in name.lower() or "timeout" in text.lower() or isinstance(exc, TimeoutError):
        return f"no answer in time ({name}); check the endpoint and the network"
    return f"cannot be read ({name}: {text}); check the URL, the network and the credentials"


def wanted(name: str) -> bool:
    """Is this object's content needed (a reader may open it), not only its name?"""
    from logan.discover import _is_log_name

    return _is_log_name(name)


@dataclass
class Mirror:
    """A local copy of the given URLs: what to analyse instead, and how to show it."""

    root: Path
    paths: list[str] = field(default_factory=list)  # local stand-ins, for discovery
    problems: list[tuple[str, str]] = field(default_factory=list)  # (url, message)
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (local prefix, url)
    fetched_bytes: int = 0
    listings: int = 0

    def shown(self, text: str) -> str:
        for local, url in self.pairs:
            if local in text:
                text = text.replace(local, url)
        return text

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)


def mirror(paths: Sequence[str | Path]) -> Mirror:
    """Fetch every URL among `paths` into a private temporary folder; local paths pass through.
    Raises MissingExtra (the CLI's exit 2) when a URL's filesystem is not installed."""
    import tempfile

    # Fail before any download when an extra is missing: the one-line error names it.
    filesystems = {str(p): _filesystem(str(p)) for p in paths if is_url(p)}
    out = Mirror(Path(tempfile.mkdtemp(prefix="logan-remote-")))
    try:
        done: dict[str, str] = {}  # a URL given twice is fetched (and analysed) once
        for i, given in enumerate(map(str, paths)):
            if given not in filesystems:
                out.paths.append(given)
            elif given not in done:
                fs, inner = filesystems[given]
                local = _mirror_one(fs, given, inner, out.root / str(i), out)
                done[given] = local if local is not None else given
                out.paths.append(done[given])
    except BaseException:
        out.close()
        raise
    # Longest local prefix first, so that no prefix replaces part of another.
    out.pairs.sort(key=lambda p: -len(p[0]))
    return out


def _list(fs: Any, inner: str) -> dict[str, dict[str, Any]]:
    """Every object under `inner` (or `inner` itself when it is one): one recursive listing."""
    found = fs.find(inner, detail=True)
    return {k: v for k, v in found.items() if v.get("type", "file") != "directory"}


def _mirror_one(fs: Any, url: str, inner: str, dest: Path, out: Mirror) -> str | None:
    """Copy what one URL holds below `dest`; the local text that stands for it, or None (then a
    problem says why)."""
    base = inner.rstrip("/")
    try:
        out.listings += 1
        objects = _list(fs, base)
    except Exception as exc:  # noqa: BLE001 - any listing failure is this URL's problem line
        out.problems.append((url, _why(exc)))
        return None
    if not objects:
        out.problems.append((url, "no object or prefix of that name; check the URL"))
        return None
    name = base.rsplit("/", 1)[-1] or "root"
    local_top = dest / name
    single = list(objects) == [base]
    url_top = url.rstrip("/")
    out.pairs.append((str(local_top), url_top))
    to_fetch: list[tuple[str, Path, int]] = []
    for key, info in sorted(objects.items()):
        rel = "" if single else key[len(base) :].lstrip("/")
        if key.endswith("/"):
            continue  # a "folder" marker some consoles create: nothing to read
        if any(part in ("", ".", "..") for part in rel.split("/")) and not single:
            out.problems.append((f"{url_top}/{rel}", "object name unsafe as a path: skipped"))
            continue
        target = local_top / rel if rel else local_top
        size = int(info.get("size") or 0)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not wanted(target.name):
            target.touch()  # discovery reads this name, never its content
        elif size > MAX_OBJECT_BYTES:
            out.problems.append(
                (_shown_key(url_top, rel), f"larger than {MAX_OBJECT_BYTES >> 20} MiB: not read")
            )
        else:
            to_fetch.append((key, target, size))
    for batch in _batches(to_fetch):
        _fetch(fs, batch, url_top, base, single, out)
    return str(local_top)


def _shown_key(url_top: str, rel: str) -> str:
    return f"{url_top}/{rel}" if rel else url_top


def _batches(items: list[tuple[str, Path, int]]) -> Iterator[list[tuple[str, Path, int]]]:
    batch: list[tuple[str, Path, int]] = []
    total = 0
    for item in items:
        if batch and (total + item[2] > BATCH_BYTES or len(batch) >= BATCH_FILES):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += item[2]
    if batch:
        yield batch


def _cat(fs: Any, keys: list[str]) -> dict[str, Any]:
    """The bytes of each key, or the exception it raised (fetched concurrently by fsspec)."""
    return fs.cat(keys, on_error="return")


def _fetch(
    fs: Any, batch: list[tuple[str, Path, int]], url_top: str, base: str, single: bool, out: Mirror
) -> None:
    keys = [k for k, _t, _s in batch]
    try:
        got = _cat(fs, keys)
    except Exception as exc:  # noqa: BLE001 - the whole batch failed: each file says so
        got = {k: exc for k in keys}
    for key, target, _size in batch:
        data = got.get(key, FileNotFoundError(key))
        shown = url_top if single else _shown_key(url_top, key[len(base) :].lstrip("/"))
        if isinstance(data, BaseException):
            why = _why(data)
            if isinstance(data, FileNotFoundError):
                why = "vanished between listing and reading; run again if it is being written"
            out.problems.append((shown, why))
            continue
        target.write_bytes(data)
        out.fetched_bytes += len(data)


# --- mapping results back to URLs --------------------------------------------------------------


def rebase(obj: Any, mirror: Mirror) -> Any:
    """`obj` with every mirror path in its strings replaced by its URL (dataclasses, lists,
    tuples and dicts are walked; tables and arrays hold no paths and are kept as they are)."""
    if isinstance(obj, str):
        return mirror.shown(obj)
    if isinstance(obj, list):
        return [rebase(x, mirror) for x in obj]
    from logan.spool import SpooledResults

    if isinstance(obj, SpooledResults):  # results waiting on disk: rebased into a new spool
        out = SpooledResults()
        for x in obj:
            out.append(rebase(x, mirror))
        return out
    if isinstance(obj, tuple):
        return tuple(rebase(x, mirror) for x in obj)
    if isinstance(obj, dict):
        return {rebase(k, mirror): rebase(v, mirror) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for f in dataclasses.fields(obj):
            if not f.init:
                continue
            old = getattr(obj, f.name)
            new = rebase(old, mirror)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(obj, **changes) if changes else obj
    return obj


class RebasedSink:
    """A per-run sink that sees URLs instead of mirror paths (pickles, for worker processes)."""

    def __init__(self, inner: Callable[[Any, int], None], mirror: Mirror) -> None:
        self.inner = inner
        self.mirror = mirror

    def __call__(self, result: Any, index: int) -> None:
        self.inner(rebase(result, self.mirror), index)


def analyze_mirrored(
    analyze: Callable[..., Analysis], paths: Sequence[str | Path], **kwargs: Any
) -> Analysis:
    """`analyze(paths, **kwargs)` with URLs fetched first and shown as URLs in everything the
    analysis and its sink see. No result cache: it keys on local files, and the copy is new."""
    from logan.model import Problem

    copy = mirror(paths)
    try:
        sink = kwargs.get("sink")
        if sink is not None:

            def shown_sink(runs: list[str]) -> Any:
                return RebasedSink(sink([copy.shown(r) for r in runs]), copy)

            kwargs["sink"] = shown_sink
        progress = kwargs.get("progress")
        if progress is not None:
            kwargs["progress"] = lambda i, n, name: progress(i, n, copy.shown(name))
        # A URL that could not be listed stays a URL in copy.paths; its problem says why.
        local = [p for p in copy.paths if not is_url(p)]
        analysis = rebase(analyze(local, **kwargs), copy) if local else _empty()
    finally:
        copy.close()
    analysis.problems[:0] = [Problem(u, m) for u, m in copy.problems]
    return analysis


def _empty() -> Analysis:
    from logan.model import Analysis

    return Analysis(results=[], problems=[], not_analysed=[])


def load_mirrored(load: Callable[[str], Any], path: str) -> Any:
    """`load(path)` (one run) for a URL: fetched, loaded, shown as the URL."""
    copy = mirror([path])
    try:
        if copy.paths[0] == path:
            url, message = copy.problems[0]
            raise LoganError(f"{url}: {message}")
        return rebase(load(copy.paths[0]), copy)
    finally:
        copy.close()


def out_folder(out: str) -> Path:
    """A local folder to write `out` into: itself, or for a URL a temporary folder (removed at
    exit) that `upload` copies to it."""
    if not is_url(out):
        return Path(out)
    import atexit
    import shutil
    import tempfile

    _filesystem(out)  # a missing extra is known before any run is analysed
    tmp = Path(tempfile.mkdtemp(prefix="logan-out-"))
    atexit.register(shutil.rmtree, tmp, True)
    return tmp


def upload(folder: Path, out: str) -> None:
    """Copy what was written into `folder` to the URL `out` (nothing to do for a local path)."""
    if not is_url(out):
        return
    fs, inner = _filesystem(out)
    try:
        fs.put(str(folder) + "/", inner.rstrip("/") + "/", recursive=True)
    except Exception as exc:  # noqa: BLE001 - an upload failure is one line, not a traceback
        raise LoganError(f"{out}: the reports could not be uploaded: {_why(exc)}") from exc


def check_configs_mirrored(check: Callable[..., Any], paths: Sequence[str | Path], **kwargs: Any):
    """`check(paths, **kwargs)` (logan.schedule.check.check_paths) with URLs fetched first (the
    listing keeps `.py` configs) and every path in the report shown as its URL."""
    from logan.model import Problem

    copy = mirror(paths)
    try:
        local = [Path(p) for p in copy.paths if not is_url(p)]
        report = rebase(check(local, **kwargs), copy)
    finally:
        copy.close()
    fetched = tuple(Problem(u, m) for u, m in copy.problems)
    return dataclasses.replace(report, problems=fetched + tuple(report.problems))
