"""HF Trainer: `trainer_state.json` in the output dir or in its `checkpoint-*` folders, plus the
TensorBoard events under `runs/` (where HF keeps its TrainingArguments as text).

Several trainings often write into one output dir (`results/`): their checkpoints overwrite
each other's place but not each other's state. Each checkpoint's state names the run it belongs
to by `max_steps` (and the batch size and epoch count), so checkpoints group into one run per
training, read from each group's newest checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from logan.producers.interface import Listing, Producer, RunSpec, SessionSpec, is_events

STATE = "trainer_state.json"
CHECKPOINT = "checkpoint-"


class HF(Producer):
    name = "hf"
    readers = {
        "hf_state": ("logan.readers.hf", "read"),
        "events": ("logan.readers.tensorboard", "read"),
    }
    scalar_kinds = ("hf_state", "events")

    def find(self, listing: Listing) -> list[RunSpec]:
        runs = []
        for folder in listing.folders():
            if STATE not in listing.files(folder) or listing.is_claimed(folder):
                continue
            is_ckpt = folder.name.startswith(CHECKPOINT)
            if is_ckpt and STATE in listing.files(folder.parent):
                continue  # the output dir's own state is the complete one
            out_dir = folder.parent if is_ckpt and listing.has(folder.parent) else folder
            if out_dir in listing.claimed:
                continue
            runs.extend(self._runs(listing, out_dir))
            listing.claimed.add(out_dir)
        return runs

    def _runs(self, listing: Listing, out_dir: Path) -> list[RunSpec]:
        if STATE in listing.files(out_dir):
            states = [out_dir / STATE]
        else:
            states = _newest_per_training(listing, out_dir)
        events = [
            q / f
            for q in listing.subtree(out_dir)
            for f in sorted(listing.files(q))
            if is_events(f)
        ]
        runs = []
        for state in states:
            where = out_dir if len(states) == 1 else state.parent
            s = SessionSpec(where.name, folder=where)
            s.add("hf_state", state)
            if len(states) == 1:
                for e in events:
                    s.add("events", e)
            spec = RunSpec(where, listing.display(where), self.name, [s])
            listing.claim(spec)
            runs.append(spec)
        # Older checkpoints of the same trainings are part of those runs, not runs of their own.
        listing.used.update(q / STATE for q in listing.children.get(out_dir, []))
        listing.used.update(events)
        return runs

    def from_file(self, path: Path, head: bytes) -> SessionSpec | None:
        if path.name == STATE:
            s = SessionSpec(path.name)
            s.add("hf_state", path)
            return s
        return None


def _newest_per_training(listing: Listing, out_dir: Path) -> list[Path]:
    """One state per training: checkpoints grouped by what identifies a training's length."""
    best: dict[Any, tuple[int, Path]] = {}
    for q in listing.children.get(out_dir, []):
        if not q.name.startswith(CHECKPOINT) or STATE not in listing.files(q):
            continue
        try:
            n = int(q.name[len(CHECKPOINT) :])
        except ValueError:
            n = -1
        key = _training_key(q / STATE)
        if key not in best or n > best[key][0]:
            best[key] = (n, q / STATE)
    return [p for _n, p in sorted(best.values(), key=lambda t: str(t[1]))]


def _training_key(state: Path) -> Any:
    try:
        import orjson

        data = orjson.loads(state.read_bytes())
    except Exception:  # noqa: BLE001 - a damaged state is read (and reported) by the reader
        return None
    if not isinstance(data, dict):
        return None
    return tuple(str(data.get(k)) for k in ("max_steps", "num_train_epochs", "train_batch_size"))
