"""Config CPU and memory bombs (issue 12, item 5) and unreadable configs (item 10).

Each payload is generated here, small on disk (a few KB) but built to cost minutes or gigabytes
when evaluated naively. The evaluator bounds every operation before doing it (digits, starred
expansions, slices, formatted strings) and the total it builds, and refuses the config with one
line naming the file and the line; each test is bounded in time and in traced memory.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logan.cli import app
from logan.config import load_config
from logan.config.evaluate import MAX_CONFIG_CHARS
from logan.errors import ConfigError

runner = CliRunner()
# Every refusal is quick and small: a naive evaluation of these payloads takes from 16 s to
# minutes and from 0.6 to 4.7 GB.
MAX_SECONDS = 3.0
MAX_TRACED_BYTES = 600 * 2**20

BIG = "a = [0] * 100000\n"
BOMBS = {
    "round-digits": "lr = 0.1\nx = round(1, -10**8)\n",
    "starred": BIG + "b = [" + ", ".join(["*a"] * 600) + "]\n",
    "slices": BIG + "".join(f"e{i} = a[1:]\n" for i in range(600)),
    "f-string": "s = 'x' * 100000\nt = f'" + "{s}" * 600 + "'\n",
    "repeats": "s = 'x' * 500000\n" + "".join(f"t{i} = s + s\n" for i in range(600)),
}
# Where each is refused: at the operation over its bound, or where the total passes 20 million.
LINES = {"round-digits": 2, "starred": 2, "slices": 201, "f-string": 2, "repeats": 21}


def _bounded(fn: object) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        fn()  # type: ignore[operator]
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS, elapsed
    assert peak < MAX_TRACED_BYTES, peak


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bomb_is_refused_naming_file_and_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.py"
    path.write_text(BOMBS[name])
    assert len(BOMBS[name]) < 20_000 or name == "slices"

    def load() -> None:
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert str(info.value).startswith(f"{path}, line {LINES[name]}: refused, the config ")

    _bounded(load)


@pytest.mark.parametrize("name", ["round-digits", "starred"])
def test_bomb_in_schedule_is_one_problem_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.py"
    path.write_text(BOMBS[name])
    res = runner.invoke(app, ["schedule", str(path)])
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [res.stderr.splitlines()[0]] and res.stderr.startswith(
        f"logan: {path}: line {LINES[name]}: refused, the config "
    )


def test_huge_config_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.py"
    path.write_text("x = 1\n" * (MAX_CONFIG_CHARS // 6 + 10))
    _bounded(lambda: pytest.raises(ConfigError, load_config, path))
    with pytest.raises(ConfigError, match="too large for a config"):
        load_config(path)


def test_ordinary_sizes_are_not_refused() -> None:
    # A real pipeline list, a long class-name list and f-strings stay far below the bounds.
    text = (
        "classes = " + repr(tuple(f"class_{i}" for i in range(2000))) + "\n"
        "pipe = [dict(type='Resize', scale=(1333, 800))] * 50\n"
        "more = [*pipe, *pipe, *pipe]\n"
        "name = f'{len(classes)}-classes'\n"
        "lr = round(0.1234567, 3)\n"
    )
    cfg = load_config(text)
    assert len(cfg["more"]) == 150 and cfg["name"] == "2000-classes" and cfg["lr"] == 0.123


@pytest.mark.parametrize("payload", [b"lr = 0.1\x00\n", b"\x00\x01\x02binary"])
def test_unreadable_config_is_named_never_line_none(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "cfg.py"
    path.write_bytes(payload)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line 1: a NUL byte") and "None" not in message
    # Text given without a file keeps a name, never "(line None: ...)".
    with pytest.raises(ConfigError, match=r"^<config text>, line 1: a NUL byte"):
        load_config(payload.decode("latin-1"))
