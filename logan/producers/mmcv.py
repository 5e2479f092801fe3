"""mmcv 1.x (mmdet 2, mmcls 0.x, mmseg 0.x): `<ts>.log.json` and `<ts>.log` in the work_dir itself.

One session per timestamp. Text logs are recognised by content (mmcv's logger writes
`2023-02-09 22:55:26,176 - mmdet - INFO - `), so a renamed or pasted log still reads. The config
is printed at the top of the text log and in the JSON's first (`env_info`) line; it says
`resume_from` (a resume) and `load_from`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from logan.producers.interface import (
    TIMESTAMP_IN_NAME,
    Listing,
    Producer,
    RunSpec,
    SessionFacts,
    SessionSpec,
    file_size,
    order_key,
)
from logan.producers.mmengine import MIN_CONFIG_BYTES, TEXT_SUFFIXES, _facts, own_checkpoint
from logan.producers.sniff import json_lines_kind, text_log_kind


class MMCV(Producer):
    name = "mmcv"
    readers = {
        "mmcv_json": ("logan.readers.mmcv", "read_json"),
        "mmcv_log": ("logan.readers.mmcv", "read_text"),
    }
    scalar_kinds = ("mmcv_json", "mmcv_log")
    meta_kinds = ("mmcv_log",)

    def find(self, listing: Listing) -> list[RunSpec]:
        runs = []
        for folder in listing.folders():
            if listing.is_claimed(folder):
                continue
            sessions = self._sessions(listing, folder)
            if not sessions:
                continue
            configs = [
                folder / n
                for n in sorted(listing.files(folder))
                if n.endswith(".py") and file_size(folder / n) >= MIN_CONFIG_BYTES
            ]
            spec = RunSpec(folder, listing.display(folder), self.name, sessions, configs)
            listing.claim(spec)
            listing.taken.add(folder)
            runs.append(spec)
        return runs

    def _sessions(self, listing: Listing, folder: Path) -> list[SessionSpec]:
        by_key: dict[str, SessionSpec] = {}
        for n in sorted(listing.files(folder)):
            p = folder / n
            if p in listing.used:
                continue
            if n.endswith(".log.json"):
                kind = "mmcv_json"
                stem = n[: -len(".log.json")]
            elif n.endswith(TEXT_SUFFIXES) and text_log_kind(listing.head(p)) == "mmcv_log":
                kind = "mmcv_log"
                stem = n.rsplit(".", 1)[0]
            else:
                continue
            m = TIMESTAMP_IN_NAME.search(stem)
            key = m.group(1) if m else stem
            s = by_key.setdefault(key, SessionSpec(stem, order=order_key(stem, [])))
            s.add(kind, p)
        return sorted(by_key.values(), key=lambda s: (s.order, s.name))

    def from_file(self, path: Path, head: bytes) -> SessionSpec | None:
        s = SessionSpec(path.name, order=order_key(path.name, []))
        if path.name.endswith(".log.json") or json_lines_kind(head) == "mmcv_json":
            s.add("mmcv_json", path)
            return s
        if text_log_kind(head) == "mmcv_log":
            s.add("mmcv_log", path)
            return s
        return None

    def facts(self, session: SessionSpec, meta: dict[str, Any]) -> SessionFacts:
        from logan.config import read_config  # data only, never executed

        text = meta.get("config_text")
        if text:
            logs = session.files.get("mmcv_log", []) or session.files.get("mmcv_json", [])
            read = read_config(text, name=f"{logs[0]} (its config)" if logs else None)
            if read.config is not None:
                return _facts(read.config, text, None)
            return SessionFacts(config_error=read.error)
        return SessionFacts()

    def is_own_checkpoint(self, load_from: str, spec: RunSpec) -> bool:
        return own_checkpoint(load_from, spec.root)
