"""The schedule preview of one config: its schedulers and LR profile as text, and the LR plot.

`logan schedule CONFIG` shows it above the findings when one config is checked; the simulation
and the verdicts come from `logan.schedule.check`, this module only lays them out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from logan.schedule.base import Simulation
from logan.schedule.check import ConfigCheck
from logan.textsafe import visible_block

# Share of the run the profile table samples.
PROFILE = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


def table(check: ConfigCheck) -> str:
    """Iterations, epoch length and base LR; each scheduler's span; the LR at a few shares."""
    sim = check.simulation
    if sim is None:
        return ""
    name = Path(check.path).name
    if check.nominal_epoch_length:
        length = f", a nominal {check.nominal_epoch_length} iterations per epoch"
    elif sim.epoch_length:
        length = f", epoch length {sim.epoch_length}"
    else:
        length = ""
    lines = [
        f"{name}: {sim.total_iters} iterations{length}, base lr {sim.base_lr:g}",
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
    return visible_block("\n".join(lines))  # names and types come from the config


def save_plot(sim: Simulation, path: Path, config_name: str) -> None:
    """The LR as mmengine runs it (and as intended, when they differ), epochs marked."""
    from logan.report import plots

    with plots.styled():  # text made while building takes the font then
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
        ax.set_title(f"LR schedule: {config_name}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        plots.save(fig, path)
