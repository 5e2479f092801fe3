"""Regenerate logan's ``sample_logs/`` by training tiny models with the real frameworks on CPU.

Run ``python scripts/make_sample_logs.py`` from anywhere; ``--only NAME`` (repeatable) redoes one
sample or one producer's group (``mmengine``, ``torch``, ``hf``, ``lightning``); ``--list`` shows
the names. The mmengine samples and the plain-torch TensorBoard sample are produced here; the
Hugging Face and Lightning producers (``samples_hf.py``, ``samples_lightning.py``) are called when
those files exist, each through its ``main(out_dir)``. Needs mmengine 0.10.7 and torch (CPU).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parent
DEFAULT_OUT = SCRIPTS.parent / "sample_logs"
# (module in scripts/, group name, required): the group name is also every sample's prefix.
PRODUCERS = (
    ("samples_mmengine", "mmengine", True),
    ("samples_torch", "torch", True),
    ("samples_hf", "hf", False),  # owned by the HF/Lightning producer; called when present
    ("samples_lightning", "lightning", False),
)


def _load(module: str, required: bool) -> ModuleType | None:
    """Import a producer module from scripts/; an optional one whose file is absent gives None."""
    if not required and not (SCRIPTS / f"{module}.py").exists():
        return None
    return importlib.import_module(module)


def _picked(sample: str, only: list[str]) -> bool:
    """A sample is picked by its own name or by its producer's group name (``mmengine``)."""
    return any(sample == n or sample.startswith(n + "_") for n in only)


def _run(module: ModuleType, group: str, out_dir: Path, only: list[str] | None) -> None:
    """Call the producer's ``main(out_dir)``, narrowed to the picked samples when it can be."""
    names = getattr(module, "SAMPLE_NAMES", None)
    accepts_only = "only" in inspect.signature(module.main).parameters
    if only is None or group in only:
        module.main(out_dir)
    elif names is not None and accepts_only:
        wanted = [n for n in names if _picked(n, only)]
        if wanted:
            module.main(out_dir, only=wanted)
    elif any(n.startswith(group + "_") for n in only):
        module.main(out_dir)  # cannot narrow it: regenerate the whole group


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="regenerate only this sample (repeatable), or a producer's group: "
        + ", ".join(group for _, group, _ in PRODUCERS),
    )
    parser.add_argument("--list", action="store_true", help="list the sample names and exit")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(SCRIPTS))
    loaded = [(_load(m, req), group, m) for m, group, req in PRODUCERS]
    producers = [(mod, group) for mod, group, _ in loaded if mod is not None]
    for mod, group, name in loaded:
        if mod is None:
            print(f"note: scripts/{name}.py is not there: no {group}_* samples", file=sys.stderr)

    if args.list:
        for mod, group in producers:
            print("\n".join(getattr(mod, "SAMPLE_NAMES", (f"{group}_*",))))
        return 0

    only: list[str] | None = args.only
    if only:
        groups = {group for _, group in producers}
        known = {n for mod, _ in producers for n in getattr(mod, "SAMPLE_NAMES", ())}
        unlisted = {g for m, g in producers if not hasattr(m, "SAMPLE_NAMES")}
        unknown = [
            n
            for n in only
            if n not in known and n not in groups and n.split("_")[0] not in unlisted
        ]
        if unknown:
            parser.error(f"unknown sample(s): {', '.join(unknown)}; see --list")

    for mod, group in producers:
        _run(mod, group, args.out, only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
