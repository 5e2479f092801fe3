"""Configs are read as data: hostile lines become UNKNOWN, never run, and never hide sane fields."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from logan.config import UNKNOWN, Symbol, config_from_log_text, load_config
from logan.errors import ConfigError

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
REF = SHARED / "reference_runs"

CANARY_CONFIG = "\n".join(
    [
        "import os",
        "from mmengine.optim import CosineAnnealingLR, LinearLR",
        "lr = 2e-4",
        "max_epochs = 3",
        "boom1 = __import__('os').system('touch CANARY')",
        "warmup_ratio = 0.03",
        "boom2 = open('CANARY', 'w').write('x')",
        "boom3 = exec(\"open('CANARY', 'w')\")",
        "boom4 = eval(\"open('CANARY', 'w')\")",
        "boom5 = os.system('touch CANARY')",
        "huge = 9**9**9",
        "deep = " + "+".join(["1"] * 10_000),
        "deeper = " + "-" * 10_000 + "1",
        "optim_wrapper = dict(optimizer=dict(type='AdamW', lr=lr, weight_decay=0))",
        "param_scheduler = [",
        "    dict(type=LinearLR, start_factor=1e-5, by_epoch=True, begin=0,",
        "         end=warmup_ratio * max_epochs, convert_to_iter_based=True),",
        "    dict(type=CosineAnnealingLR, eta_min=0.0, by_epoch=True,",
        "         begin=warmup_ratio * max_epochs, T_max=max_epochs, convert_to_iter_based=True,",
        "         extra=open('CANARY', 'w')),",
        "]",
        "train_cfg = dict(type='TrainLoop', max_epochs=max_epochs)",
        "model = dict(type='{{_base_.model}}', n=[i for i in range(3)], f=lambda: 1)",
        "label = f'lr={lr}'",
    ]
)


def test_canary_config_runs_nothing_and_keeps_sane_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "canary.py"
    path.write_text(CANARY_CONFIG)
    start = time.perf_counter()
    cfg = load_config(path)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0
    assert not (tmp_path / "CANARY").exists()
    assert not Path("CANARY").exists()
    for name in ("boom1", "boom2", "boom3", "boom4", "boom5", "huge", "deep", "deeper"):
        assert cfg[name] is UNKNOWN, name
    assert cfg["lr"] == 2e-4
    assert cfg["max_epochs"] == 3
    assert cfg["optim_wrapper"] == {"optimizer": {"type": "AdamW", "lr": 2e-4, "weight_decay": 0}}
    warm, cos = cfg["param_scheduler"]
    assert warm["type"] == "LinearLR" and isinstance(warm["type"], Symbol)
    assert warm["end"] == pytest.approx(0.09)
    assert cos["type"] == "CosineAnnealingLR"
    assert cos["type"].qualname == "mmengine.optim.CosineAnnealingLR"
    assert cos["T_max"] == 3 and cos["extra"] is UNKNOWN
    assert cfg["train_cfg"] == {"type": "TrainLoop", "max_epochs": 3}
    assert cfg["model"]["type"] is UNKNOWN
    assert cfg["model"]["n"] is UNKNOWN and cfg["model"]["f"] is UNKNOWN
    assert cfg["label"] == "lr=0.0002"
    assert "os" not in cfg  # imports are symbols, not config fields


def test_canary_as_text_is_the_same() -> None:
    cfg = load_config(CANARY_CONFIG)
    assert cfg["huge"] is UNKNOWN and cfg["lr"] == 2e-4


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("2 ** 10", 1024),
        ("7 // 2", 3),
        ("7 % 3", 1),
        ("-(3 - 5)", 2),
        ("[1, 2][-1]", 2),
        ("dict(a=1)['a']", 1),
        ("(1, 2) + (3,)", (1, 2, 3)),
        ("int(0.03 * 100)", 3),
        ("max(1, 5)", 5),
        ("1 / 0", UNKNOWN),
        ("10 ** 100000", UNKNOWN),
        ("2 ** 0.5 if True else 0", 2**0.5),
        ("'ab' * 10**9", UNKNOWN),
        ("[0] * 10**9", UNKNOWN),
        ("x.y", UNKNOWN),
        ("getattr(1, 'real')", UNKNOWN),
        ("(lambda: 1)()", UNKNOWN),
        ("{**dict(a=1), 'b': 2}", {"a": 1, "b": 2}),
    ],
)
def test_expressions(expr: str, expected: object) -> None:
    value = load_config(f"v = {expr}\n")["v"]
    if expected is UNKNOWN:
        assert value is UNKNOWN
    else:
        assert value == expected


def test_rebound_builtin_is_not_trusted() -> None:
    cfg = load_config("dict = something\nv = dict(a=1)\nw = [1]\n")
    assert cfg["v"] is UNKNOWN and cfg["w"] == [1]


def test_syntax_error_is_one_line_config_error(tmp_path: Path) -> None:
    path = tmp_path / "broken_config.py"
    path.write_text("lr = 0.1\nparam_scheduler = dict(type='X',\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "broken_config.py" in message and "\n" not in message


def test_control_flow_names_become_unknown() -> None:
    cfg = load_config("a = 1\nfor i in []:\n    b = 2\nif x:\n    d = 1\nc = a + 1\n")
    assert cfg["a"] == 1 and cfg["b"] is UNKNOWN and cfg["d"] is UNKNOWN and cfg["c"] == 2


def test_if_with_a_known_test_is_followed() -> None:
    # XTuner's `if use_varlen_attn: custom_hooks += [...]`, with the flag set above it.
    text = "flag = False\nhooks = [1]\nif flag:\n    hooks += [2]\nelse:\n    lr = 0.1\n"
    cfg = load_config(text)
    assert cfg["hooks"] == [1] and cfg["lr"] == 0.1


@pytest.mark.skipif(not REF.is_dir(), reason="../shared/reference_runs not present")
@pytest.mark.parametrize("name", ["xt_buggy_e3", "xt_fixed_e3"])
def test_config_from_log_text_equals_dumped_config(name: str) -> None:
    run = REF / name
    log = next(run.glob("*/*.log"))
    text = config_from_log_text(log.read_text())
    assert text is not None
    assert load_config(text) == load_config(run / f"{name}.py")
    assert text.strip() == (run / f"{name}.py").read_text().strip()


def test_config_from_log_text_without_config() -> None:
    assert config_from_log_text("2024/01/01 00:00:00 - mmengine - INFO - hello\n") is None


def test_path_forms(tmp_path: Path) -> None:
    path = tmp_path / "cfg.py"
    path.write_text("lr = 0.5\n")
    assert load_config(path) == {"lr": 0.5}
    assert load_config(str(path)) == {"lr": 0.5}
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path / "missing.py"))
    assert "missing.py" in str(info.value)
    assert load_config("name = 'x.py'") == {"name": "x.py"}  # text, not a path
