"""Any other TensorBoard writer (torch SummaryWriter, tensorboardX, TF2, ...): a folder of
`events.out.tfevents.*` files, one session per file in the order their names' times give."""

from __future__ import annotations

from pathlib import Path

from logan.producers.interface import (
    EVENTS_PREFIX,
    Listing,
    Producer,
    RunSpec,
    SessionSpec,
    event_time,
    is_events,
)


class TensorBoard(Producer):
    name = "tensorboard"
    readers = {"events": ("logan.readers.tensorboard", "read")}
    scalar_kinds = ("events",)

    def find(self, listing: Listing) -> list[RunSpec]:
        runs = []
        for folder in listing.folders():
            if listing.is_claimed(folder):
                continue
            names = {n for n in listing.files(folder) if folder / n not in listing.used}
            if not any(is_events(n) for n in names):
                continue
            spec = RunSpec(
                folder, listing.display(folder), self.name, event_sessions(folder, names)
            )
            listing.claim(spec)
            runs.append(spec)
        return runs

    def from_file(self, path: Path, head: bytes) -> SessionSpec | None:
        if is_events(path.name):
            s = SessionSpec(path.name)
            s.add("events", path)
            return s
        return None


def event_sessions(folder: Path, names: set[str]) -> list[SessionSpec]:
    """One session per event file, ordered by the creation time in its name."""
    out = []
    for n in sorted((n for n in names if is_events(n)), key=_sort_key):
        s = SessionSpec(n, order=event_time(n) or "")
        s.add("events", folder / n)
        out.append(s)
    return out


def _sort_key(name: str) -> tuple[int, str]:
    parts = name[len(EVENTS_PREFIX) :].split(".")
    try:
        return (int(parts[0]), name)
    except (ValueError, IndexError):
        return (0, name)
