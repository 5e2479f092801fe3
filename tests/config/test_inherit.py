"""`_base_` inheritance read as data equals what mmengine's own `Config.fromfile` builds.

Each feature is a small tree written by the test and loaded both ways; then real trees (the
configs shipped in five wheels) are compared on the fields a schedule depends on.
"""

from __future__ import annotations

import contextlib
import io
import random
import warnings
from pathlib import Path
from typing import Any

import pytest

from logan.config import Symbol
from logan.config.inherit import ConfigLoader
from logan.errors import ConfigError
from tests.config.real_trees import configs_dir

mmengine_config = pytest.importorskip("mmengine.config")

# Configs per wheel compared with mmengine on every test run (~50 ms each with mmengine); the
# benchmark script compares every config of the five wheels.
REAL_SAMPLE = 20

SCHEDULE = """\
max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[8, 11]),
]
"""


def _norm(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _norm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if isinstance(value, Symbol):
        return value.qualname
    if type(value).__name__ in ("LazyObject", "LazyAttr"):
        return str(value)
    return value


def _fields(cfg: dict[str, Any]) -> dict[str, Any]:
    """The fields the issue asks to be equal: param_scheduler, optimizer lr, train_cfg."""
    wrapper = cfg.get("optim_wrapper")
    optimizer = wrapper.get("optimizer") if isinstance(wrapper, dict) else None
    return {
        "param_scheduler": _norm(cfg.get("param_scheduler")),
        "lr": optimizer.get("lr") if isinstance(optimizer, dict) else None,
        "train_cfg": _norm(cfg.get("train_cfg")),
    }


def _mmengine(path: Path) -> dict[str, Any]:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        cfg = mmengine_config.Config.fromfile(str(path))
    return cfg.to_dict()


def _same(path: Path, loader: ConfigLoader | None = None) -> dict[str, Any]:
    mine = (loader or ConfigLoader()).load(path).values
    theirs = _mmengine(path)
    assert _fields(mine) == _fields(theirs)
    return mine


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_base_as_a_string(tmp_path: Path) -> None:
    _tree(tmp_path, {"_base_/schedule.py": SCHEDULE, "cfg.py": "_base_ = './_base_/schedule.py'\n"})
    cfg = _same(tmp_path / "cfg.py")
    assert cfg["train_cfg"]["max_epochs"] == 12


def test_base_list_dicts_merge_and_other_values_replace(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "_base_/schedule.py": SCHEDULE,
            "_base_/runtime.py": "default_scope = 'mmdet'\nlog_level = 'INFO'\n",
            "cfg.py": (
                "_base_ = ['./_base_/schedule.py', './_base_/runtime.py']\n"
                "train_cfg = dict(max_epochs=24)\n"  # merged: type and val_interval stay
                "optim_wrapper = dict(optimizer=dict(lr=0.01))\n"
                "param_scheduler = [dict(type='CosineAnnealingLR', T_max=24, by_epoch=True)]\n"
            ),
        },
    )
    cfg = _same(tmp_path / "cfg.py")
    assert cfg["train_cfg"] == {
        "type": "EpochBasedTrainLoop",
        "max_epochs": 24,
        "val_interval": 1,
    }
    assert len(cfg["param_scheduler"]) == 1  # a list replaces, never merges
    assert cfg["optim_wrapper"]["optimizer"] == {"type": "SGD", "lr": 0.01, "momentum": 0.9}


def test_template_substitution(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "_base_/schedule.py": SCHEDULE,
            "cfg.py": (
                "_base_ = './_base_/schedule.py'\n"
                "param_scheduler = {{_base_.param_scheduler}}\n"
                "train_cfg = dict(type='EpochBasedTrainLoop', max_epochs={{_base_.max_epochs}})\n"
            ),
        },
    )
    cfg = _same(tmp_path / "cfg.py")
    assert cfg["param_scheduler"][1]["milestones"] == [8, 11]


def test_base_references_and_writes_in_pure_python(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "_base_/schedule.py": SCHEDULE,
            "cfg.py": (
                "_base_ = './_base_/schedule.py'\n"
                "param_scheduler = [_base_.param_scheduler[1]]\n"
                "_base_.train_cfg.max_epochs = 6\n"  # a write into the bases is kept
                "_base_.optim_wrapper.optimizer.lr = _base_.optim_wrapper.optimizer.lr / 2\n"
            ),
        },
    )
    cfg = _same(tmp_path / "cfg.py")
    assert cfg["train_cfg"]["max_epochs"] == 6 and cfg["optim_wrapper"]["optimizer"]["lr"] == 0.01


def test_delete_replaces_the_base_dict(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "_base_/schedule.py": SCHEDULE,
            "cfg.py": (
                "_base_ = './_base_/schedule.py'\n"
                "optim_wrapper = dict(_delete_=True, optimizer=dict(type='AdamW', lr=1e-4))\n"
                "train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=900)\n"
            ),
        },
    )
    cfg = _same(tmp_path / "cfg.py")
    assert cfg["optim_wrapper"] == {"optimizer": {"type": "AdamW", "lr": 1e-4}}
    assert cfg["train_cfg"] == {"type": "IterBasedTrainLoop", "max_iters": 900}


def test_read_base_new_style(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "_base_/__init__.py": "",
            "_base_/schedules/__init__.py": "",
            "_base_/schedules/sched.py": SCHEDULE,
            "cfgs/__init__.py": "",
            "cfgs/cfg.py": (
                "from mmengine.config import read_base\n"
                "with read_base():\n"
                "    from .._base_.schedules.sched import *\n"
                "from mmengine.optim import CosineAnnealingLR\n"
                "train_cfg.update(max_epochs=3, val_interval=3)\n"
                "optim_wrapper.optimizer.lr = 0.005\n"
                "param_scheduler = [dict(type=CosineAnnealingLR, T_max=3, by_epoch=True)]\n"
            ),
        },
    )
    cfg = _same(tmp_path / "cfgs" / "cfg.py")
    assert cfg["train_cfg"]["max_epochs"] == 3
    assert cfg["param_scheduler"][0]["type"].qualname == "mmengine.optim.CosineAnnealingLR"


def test_package_scoped_base_from_the_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "site" / "mmdet"
    _tree(
        pkg,
        {
            "__init__.py": "raise SystemExit('imported')\n",  # finding it must not import it
            ".mim/model-index.yml": "Import: []\n",
            ".mim/configs/_base_/schedules/schedule_1x.py": SCHEDULE,
        },
    )
    cfg_path = tmp_path / "proj" / "cfg.py"
    _tree(
        tmp_path / "proj",
        {
            "cfg.py": (
                "_base_ = 'mmdet::_base_/schedules/schedule_1x.py'\n"
                "train_cfg = dict(max_epochs=3)\n"
            )
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    # mmengine finds installed packages through their metadata; point it at the same folder.
    cfg_module = __import__("mmengine.config.config", fromlist=["x"])
    monkeypatch.setattr(cfg_module, "is_installed", lambda name: name == "mmdet")
    monkeypatch.setattr(cfg_module, "get_installed_path", lambda name: str(pkg))
    loaded = ConfigLoader().load(cfg_path)
    assert loaded.missing == ()
    assert _fields(loaded.values) == _fields(_mmengine(cfg_path))
    assert loaded.values["train_cfg"]["max_epochs"] == 3


def test_missing_package_is_named_not_raised(tmp_path: Path) -> None:
    (tmp_path / "cfg.py").write_text("_base_ = 'mmnotapkg::a/b.py'\nlr = 1\n")
    loaded = ConfigLoader().load(tmp_path / "cfg.py")
    assert loaded.values == {"lr": 1}
    assert loaded.missing == ("base 'mmnotapkg::a/b.py' needs the package 'mmnotapkg' installed",)


def test_a_cycle_is_a_config_error(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": "_base_ = './b.py'\n", "b.py": "_base_ = './a.py'\n"})
    with pytest.raises(ConfigError, match="inherits from itself"):
        ConfigLoader().load(tmp_path / "a.py")


def test_bases_are_read_once_per_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"_base_/schedule.py": SCHEDULE}
    files.update({f"c{i}.py": "_base_ = './_base_/schedule.py'\n" for i in range(5)})
    _tree(tmp_path, files)
    loader = ConfigLoader()
    reads: list[Path] = []
    original = Path.read_text

    def counting(self: Path, *args: Any, **kwargs: Any) -> str:
        reads.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counting)
    for i in range(5):
        loaded = loader.load(tmp_path / f"c{i}.py")
        loaded.values["train_cfg"]["max_epochs"] = 99  # a caller's edit never leaks
    assert sum(p.name == "schedule.py" for p in reads) == 1
    assert loader.load(tmp_path / "c0.py").values["train_cfg"]["max_epochs"] == 12


@pytest.mark.parametrize("package", ["mmpretrain", "mmdet", "mmseg", "mmpose", "xtuner"])
def test_real_trees_merge_as_mmengine_does(
    real_trees: dict[str, Path], package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if package not in real_trees:
        pytest.skip(f"{package} wheel not downloaded")
    # `mmdet::` bases resolve from the unpacked wheels, for mmengine and for logan alike.
    cfg_module = __import__("mmengine.config.config", fromlist=["x"])
    monkeypatch.setattr(cfg_module, "is_installed", lambda name: name in real_trees)
    monkeypatch.setattr(cfg_module, "get_installed_path", lambda name: str(real_trees[name]))
    loader = ConfigLoader(real_trees)
    root = configs_dir(package, real_trees[package])
    files = sorted(p for p in root.rglob("*.py") if "_base_" not in p.parts)
    sample = random.Random(13).sample(files, min(REAL_SAMPLE, len(files)))
    compared = 0
    for path in sample:
        try:
            theirs = _mmengine(path)
        except Exception:  # noqa: BLE001 - mmengine itself cannot load a few (missing imports)
            continue
        assert _fields(loader.load(path).values) == _fields(theirs), path
        compared += 1
    assert compared >= 0.9 * len(sample)
