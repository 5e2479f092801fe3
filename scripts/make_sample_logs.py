"""Regenerate logan's ``sample_logs/`` by training tiny models with the real frameworks on CPU.

Run ``python scripts/make_sample_logs.py`` from anywhere (``--only NAME`` to redo one sample,
repeatable; ``--list`` to see the names). The mmengine samples and the plain-torch TensorBoard
sample are produced here; the Hugging Face and Lightning producers (``samples_hf.py``,
``samples_lightning.py``) are called when those files exist, each through its
``main(out_dir)``. Needs the ``frameworks`` extra (mmengine 0.10.7, torch) and takes about a minute.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
DEFAULT_OUT = SCRIPTS.parent / "sample_logs"
# Producers owned elsewhere, called only when present: (module, sample-name prefix).
OPTIONAL_PRODUCERS = (("samples_hf", "hf_"), ("samples_lightning", "lightning_"))


def _optional(module: str):
    """Import an optional producer module from scripts/, or None when its file is absent."""
    if not (SCRIPTS / f"{module}.py").exists():
        return None
    return importlib.import_module(module)


def _call(module, out_dir: Path, only: list[str] | None) -> None:
    """Call ``main(out_dir)``, passing ``only`` when the producer's main accepts it."""
    if only is not None and "only" in inspect.signature(module.main).parameters:
        module.main(out_dir, only=only)
    else:
        module.main(out_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="regenerate only this sample (repeatable); 'hf'/'lightning' or any name with that "
        "prefix runs that producer",
    )
    parser.add_argument("--list", action="store_true", help="list the sample names and exit")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(SCRIPTS))
    import samples_mmengine
    import samples_torch

    own = {
        **{name: samples_mmengine for name in samples_mmengine.SAMPLE_NAMES},
        **{name: samples_torch for name in samples_torch.SAMPLE_NAMES},
    }
    if args.list:
        print("\n".join(own))
        for module, prefix in OPTIONAL_PRODUCERS:
            if (SCRIPTS / f"{module}.py").exists():
                print(f"{prefix}*  (scripts/{module}.py)")
        return 0

    only: list[str] | None = args.only
    if only:
        known = set(own) | {p.rstrip("_") for _, p in OPTIONAL_PRODUCERS}
        unknown = [n for n in only if n not in known and not n.startswith(("hf_", "lightning_"))]
        if unknown:
            parser.error(f"unknown sample(s): {', '.join(unknown)}; see --list")

    out_dir: Path = args.out
    for module in (samples_mmengine, samples_torch):
        wanted = None if only is None else [n for n in only if own.get(n) is module]
        if wanted is None or wanted:
            module.main(out_dir, only=wanted)
    for module_name, prefix in OPTIONAL_PRODUCERS:
        wanted = None
        if only is not None:
            wanted = [n for n in only if n.startswith(prefix) or n == prefix.rstrip("_")]
            if not wanted:
                continue
        module = _optional(module_name)
        if module is None:
            print(f"skipped {prefix}*: scripts/{module_name}.py is not there", file=sys.stderr)
            continue
        names = [n for n in wanted or [] if n.startswith(prefix)] or None
        _call(module, out_dir, names)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
