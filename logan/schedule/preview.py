"""`logan schedule CONFIG`: the LR a config will produce, as mmengine runs it and as its author
meant it, with the same warnings LR001/LR002/LR003 would raise after training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from logan.config import is_unknown, load_config
from logan.errors import LoganError
from logan.schedule.fit import last_change, schedule_misfits, simulate_beyond
from logan.schedule.mmengine import Simulation, simulate_config

# Share of the run the profile table samples.
PROFILE = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


@dataclass
class Preview:
    simulation: Simulation
    table: str
    warnings: list[str] = field(default_factory=list)
    config_name: str = "config.py"

    def save_plot(self, path: Path) -> None:
        from logan.report import plots

        sim = self.simulation
        fig = plots._figure()
        ax = fig.add_subplot()
        x = np.arange(1, sim.total_iters + 1)
        ax.plot(x, sim.actual, lw=1.6, color="#1f77b4", label="as mmengine runs it")
        if sim.cause:
            ax.plot(x, sim.intended, lw=1.2, ls="--", color="#9467bd", label="as intended")
        if sim.epoch_length and sim.total_iters // sim.epoch_length <= plots.MAX_EPOCH_LINES:
            for e in range(1, sim.total_iters // sim.epoch_length + 1):
                ax.axvline(e * sim.epoch_length, color="0.6", lw=0.8, ls=":", zorder=0)
        ax.set_xlabel("iteration")
        ax.set_ylabel("learning rate")
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        ax.set_title(f"LR schedule: {self.config_name}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        plots.save(fig, path)


def _epoch_length(
    config: dict[str, Any], epoch_length: int | None, dataset_size: int | None, batch: int | None
) -> int | None:
    if epoch_length:
        return epoch_length
    if dataset_size:
        loader = config.get("train_dataloader")
        if batch is None and isinstance(loader, dict):
            b = loader.get("batch_size")
            batch = b if isinstance(b, int) and not is_unknown(b) else None
        if batch:
            # mmengine's DefaultSampler keeps the last partial batch (drop_last=False).
            return math.ceil(dataset_size / batch)
    return None


def preview(
    config_path: Path,
    epoch_length: int | None = None,
    dataset_size: int | None = None,
    batch_size: int | None = None,
) -> Preview:
    """Simulate a config file; raise LoganError with what is missing when it cannot be done."""
    try:
        text = Path(config_path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise LoganError(f"{config_path}: cannot read ({exc.strerror}); check the path") from None
    config = load_config(text)
    length = _epoch_length(config, epoch_length, dataset_size, batch_size)
    name = Path(config_path).name
    sim = simulate_config(config, length, config_text=text, config_name=name)
    if sim is None:
        hint = (
            "give --epoch-length N (or --dataset-size N --batch-size B)"
            if length is None
            else "the config's optimizer lr, train_cfg or param_scheduler could not be read as data"
        )
        raise LoganError(f"{config_path}: cannot simulate this schedule; {hint}")
    extended = simulate_beyond(
        lambda horizon: simulate_config(config, length, total_iters=horizon), sim.total_iters
    )
    lines = [
        f"{name}: {sim.total_iters} iterations"
        + (f", epoch length {sim.epoch_length}" if sim.epoch_length else "")
        + f", base lr {sim.base_lr:g}",
        "",
        "schedulers (iterations, as run):",
    ]
    for span in sim.spans:
        lo = sim.actual[min(span.begin, sim.total_iters - 1)]
        hi = sim.actual[max(min(span.end, sim.total_iters) - 1, 0)]
        lines.append(
            f"  [{span.index}] {span.type:<22} {span.begin:>7} .. {span.end:<7} "
            f"lr {lo:.4g} -> {hi:.4g}" + ("  (by epoch)" if span.by_epoch else "")
        )
    lines += ["", "  share   iteration   as run        as intended"]
    for share in PROFILE:
        k = max(1, min(sim.total_iters, round(share * sim.total_iters)))
        lines.append(
            f"  {share:>4.0%}   {k:>9}   {sim.actual[k - 1]:<12.4g}  {sim.intended[k - 1]:.4g}"
        )
    warnings = []
    if sim.cause:
        frozen_from = last_change(sim.actual) + 2  # 1-based: first iteration without a new LR
        where = ""
        if frozen_from <= sim.total_iters:
            where = (
                f" the LR will stay at {sim.actual[-1]:.4g} from iteration {frozen_from} to "
                f"{sim.total_iters} instead of following the intended schedule;"
            )
        warnings.append(f"LR001 lr-plateau:{where} {sim.cause}")
        if sim.fix:
            warnings.append("fix:\n" + sim.fix.rstrip())
    for misfit in schedule_misfits(sim, extended):
        warnings.append(f"LR002 schedule-length: {misfit.message}")
    return Preview(sim, "\n".join(lines), warnings, name)
