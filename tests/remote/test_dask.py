"""The per-run analysis on an existing distributed engine: a Dask LocalCluster of two worker
processes on 127.0.0.1 gives the same answer as one process, and its workers write the reports."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from logan.api import analyze
from logan.cli import app
from logan.report.serialize import analysis_dict
from tests.conftest import SAMPLES

distributed = pytest.importorskip("distributed")

runner = CliRunner()


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """Two worker processes, one thread each: the scheduler's address."""
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=50,
    ) as local:
        yield local.scheduler_address


def as_json(analysis) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(analysis_dict(analysis), indent=2, allow_nan=False)


def test_analyze_on_a_dask_executor_is_the_same_as_one_process(cluster):
    with distributed.Client(cluster, set_as_default=False) as client:
        on_dask = analyze(str(SAMPLES), executor=client.get_executor(), keep_scalars=False)
        workers = client.run(lambda: __import__("os").getpid())
    assert len(set(workers.values())) == 2
    assert as_json(on_dask) == as_json(analyze(str(SAMPLES), jobs=1, keep_scalars=False))


def test_cli_executor_gives_the_jobs_1_answer_and_workers_write_the_reports(cluster, tmp_path):
    address = cluster.replace("tcp://", "dask://")
    runs = [str(SAMPLES / n) for n in ("mmengine_plateau_e4", "hf_cosine")]
    # --no-cache: a cached place would be answered by this process, not by the workers.
    one = runner.invoke(app, ["check", *runs, "-f", "json", "--no-cache"])
    many = runner.invoke(
        app,
        [
            "check",
            *runs,
            "-f",
            "json",
            "-q",
            "--no-cache",
            "--executor",
            address,
            "-o",
            str(tmp_path / "b"),
        ],
    )
    assert many.exit_code == one.exit_code == 1
    assert many.stdout == one.stdout
    written = sorted(p.parent.name for p in (tmp_path / "b").rglob("report.json"))
    # the index's report.json, and one per run (in a folder named after the run)
    assert len(written) == 3 and written.count("b") == 1
    for name in ("mmengine_plateau_e4", "hf_cosine"):
        assert any(w.endswith(name) for w in written)


def test_a_scheduler_that_is_not_there_is_one_line():
    res = runner.invoke(app, ["check", str(SAMPLES / "hf_cosine"), "--executor", "ray://x:1"])
    assert res.exit_code == 2
    assert res.stderr == (
        "logan: --executor ray://x:1: expected dask://HOST:PORT (a running Dask scheduler)\n"
    )
