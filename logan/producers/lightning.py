"""PyTorch Lightning: a `version_N` folder with `metrics.csv` (CSVLogger) and/or event files
(TensorBoardLogger), and `hparams.yaml`.

`trainer.fit` and `trainer.test` write separate event files into the same version folder; a
test-only file holds `test_*` and `hp_metric` scalars only, so loading keeps it out of the
training timeline (its rows are not training rows). Lightning's `global_step` counts from 0 and
logs the LR of the next update: events are shifted by one so step k is update k, as the CSV
reader does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from logan.producers.interface import Listing, Producer, RunSpec, SessionSpec, is_events
from logan.producers.tensorboard import event_sessions

if TYPE_CHECKING:
    import pandas as pd


class Lightning(Producer):
    name = "lightning"
    readers = {
        "lightning_csv": ("logan.readers.lightning", "read"),
        "events": ("logan.readers.tensorboard", "read"),
    }
    scalar_kinds = ("lightning_csv", "events")

    def find(self, listing: Listing) -> list[RunSpec]:
        runs = []
        for folder in listing.folders():
            names = listing.files(folder)
            if listing.is_claimed(folder):
                continue
            if "metrics.csv" in names:
                s = SessionSpec(folder.name, folder=folder)
                s.add("lightning_csv", folder / "metrics.csv")
                for f in sorted(names):
                    if is_events(f):
                        s.add("events", folder / f)
                sessions = [s]
            elif "hparams.yaml" in names and any(is_events(f) for f in names):
                sessions = event_sessions(folder, names)
            else:
                continue
            if "hparams.yaml" in names:
                sessions[0].add("hparams", folder / "hparams.yaml")
            spec = RunSpec(folder, listing.display(folder), self.name, sessions)
            listing.claim(spec)
            listing.claimed.add(folder)
            runs.append(spec)
        return runs

    def from_file(self, path: Path, head: bytes) -> SessionSpec | None:
        if path.name == "metrics.csv":
            s = SessionSpec(path.name)
            s.add("lightning_csv", path)
            return s
        return None

    def adjust(self, kind: str, frame: pd.DataFrame) -> pd.DataFrame:
        if kind == "events":
            return frame.assign(step=frame["step"] + 1)
        return frame
