"""Configs and logs are read as data, never run: code planted in a dumped config and in a text
log's config block leaves no trace (no CANARY file), ends fast, and the rest is still read."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from logan.config import is_unknown
from tests.robustness import corpus, harness

RUN = "mmengine_plateau_textlog_only"  # text log + config dump only: the config decides LR001
NEST = 10_000
SECONDS = 5.0


def _payloads(canary: Path) -> list[str]:
    """Statements that would each create `canary` (or hang, or blow the stack) if run."""
    touch = f"__import__('os').system('touch {canary}')"
    write = f"open('{canary}', 'w').write('x')"
    return [
        f"evil_system = {touch}",
        touch,
        f"evil_open = {write}",
        f'exec("{write}")',
        f'evil_eval = eval("{touch}")',
        "evil_pow = 9**9**9",
        "evil_pow2 = (10**10**10) * 2",
        f"evil_import = __import__('importlib').import_module('os').system('touch {canary}')",
        f"evil_lambda = (lambda: {write})()",
        f"evil_class = [c for c in ().__class__.__base__.__subclasses__()]; {touch}",
        "evil_parens = " + "(" * NEST + "1" + ")" * NEST,
        "evil_lists = " + "[" * NEST + "]" * NEST,
        "evil_unary = " + "-" * NEST + "1",
        "evil_sum = 1" + " + 1" * NEST,
        "evil_attr = x" + ".y" * NEST,
        "evil_str = 'a' * 10**12",
    ]


def _plant(tmp_path: Path, canary: Path) -> Path:
    root = tmp_path / RUN
    shutil.copytree(corpus.SAMPLES / RUN, root)
    payloads = _payloads(canary)
    (dump,) = root.glob("*.py")
    dump.write_text("\n".join(payloads) + "\n" + dump.read_text() + "\n".join(payloads) + "\n")
    (log,) = root.glob("*/*.log")
    lines = log.read_text().splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.endswith("INFO - Config:")) + 1
    prefix = lines[at - 1][: -len("Config:")]
    lines[at:at] = payloads  # inside the config block the log dumped
    lines += [prefix + p for p in payloads]  # and as log lines after training
    log.write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize("where", ["cwd", "absolute"])
def test_nothing_in_a_config_or_log_is_executed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    canary = Path("CANARY") if where == "cwd" else tmp_path / "CANARY"
    root = _plant(tmp_path, canary)
    corpus.tried("canary", 2)
    start = time.monotonic()
    res = harness.cli("check", root, "-q", "-f", "json")
    took = time.monotonic() - start
    assert not list(tmp_path.rglob("CANARY")) and not (corpus.REPO / "CANARY").exists()
    assert took < SECONDS, f"{took:.1f} s"
    # The sane fields around the planted code are still read: the plateau and its config cause.
    assert res.exit_code == 1 and '"LR001"' in res.stdout
    (result,) = harness.analyze(root).results
    assert not list(tmp_path.rglob("CANARY"))
    config = result.run.config
    assert config is not None and config["train_cfg"]["max_epochs"] == 3
    (lr001,) = [f for f in result.findings if f.code == "LR001"]
    assert "T_max = 3 epochs" in str(lr001.evidence)  # the cause comes from the config
    for name, value in config.items():
        if name.startswith("evil_"):
            assert value is None or is_unknown(value), (name, value)
