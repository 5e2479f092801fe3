"""LLaMA-Factory: `trainer_log.jsonl` (one JSON object per logging step: `current_steps`,
`total_steps`, `loss`, `lr` or `learning_rate`, `epoch`, ...), beside a `trainer_state.json` when
the HF Trainer saved one.

The jsonl is appended to by every launch in the same output dir, so a continuation from a
checkpoint shows as the step counter falling back (logan.load splits the file there). When the
HF state is present it gives the same values at full precision and is read first.
"""

from __future__ import annotations

from pathlib import Path

from logan.producers.interface import Listing, Producer, RunSpec, SessionSpec
from logan.producers.sniff import json_lines_kind

LOG_NAME = "trainer_log.jsonl"
STATE = "trainer_state.json"
CHECKPOINT = "checkpoint-"


class LlamaFactory(Producer):
    name = "llamafactory"
    readers = {
        "llamafactory": ("logan.readers.llamafactory", "read"),
        "hf_state": ("logan.readers.hf", "read"),
    }
    scalar_kinds = ("hf_state", "llamafactory")

    def find(self, listing: Listing) -> list[RunSpec]:
        runs = []
        for folder in listing.folders():
            names = listing.files(folder)
            if LOG_NAME not in names or listing.is_claimed(folder):
                continue
            s = SessionSpec(folder.name, folder=folder)
            s.add("llamafactory", folder / LOG_NAME)
            if STATE in names:
                s.add("hf_state", folder / STATE)
            spec = RunSpec(folder, listing.display(folder), self.name, [s])
            listing.claim(spec)
            # The HF Trainer under LLaMA-Factory saves `checkpoint-*/trainer_state.json`: older
            # copies of the same log history, part of this run, not runs of their own.
            listing.used.update(
                q / STATE
                for q in listing.children.get(folder, [])
                if q.name.startswith(CHECKPOINT) and STATE in listing.files(q)
            )
            runs.append(spec)
        return runs

    def from_file(self, path: Path, head: bytes) -> SessionSpec | None:
        if path.name == LOG_NAME or json_lines_kind(head) == "llamafactory":
            s = SessionSpec(path.name)
            s.add("llamafactory", path)
            return s
        return None
