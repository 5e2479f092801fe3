"""Runs in S3, against a real S3 API (moto's server on 127.0.0.1): the same verdicts and the
same JSON as on disk, and every failure a clear problem line, bounded in time."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from logan import remote
from logan.api import analyze, load_run, read_scalars
from logan.cli import app
from logan.report.serialize import analysis_dict
from tests.conftest import SAMPLES
from tests.remote.conftest import BUCKET, PREFIX

pytest.importorskip("s3fs")

runner = CliRunner()


def as_json(analysis) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(analysis_dict(analysis), indent=2, allow_nan=False)


def test_a_prefix_gives_the_same_json_as_the_same_runs_on_disk(s3):
    on_disk = as_json(analyze(str(SAMPLES), keep_scalars=False))
    in_s3 = as_json(analyze(PREFIX + "/", keep_scalars=False))
    assert PREFIX + "/mmengine_plateau_e4" in in_s3
    assert "logan-remote-" not in in_s3  # no temporary path leaks into what users see
    assert in_s3.replace(PREFIX, str(SAMPLES)) == on_disk


def test_cli_check_on_a_url_has_the_same_exit_code_and_json(s3):
    local = runner.invoke(app, ["check", str(SAMPLES / "mmengine_plateau_e4"), "-f", "json"])
    url = runner.invoke(app, ["check", f"{PREFIX}/mmengine_plateau_e4", "-f", "json", "-q"])
    assert local.exit_code == url.exit_code == 1  # LR001 fires in both
    assert url.stdout.replace(PREFIX, str(SAMPLES)) == local.stdout


def test_a_prefix_is_listed_once_and_only_logs_are_fetched(s3, monkeypatch):
    calls: list[str] = []
    real = remote._list
    monkeypatch.setattr(remote, "_list", lambda fs, p: calls.append(p) or real(fs, p))
    copy = remote.mirror([PREFIX])
    try:
        assert len(calls) == 1 and copy.listings == 1
        readme = copy.root / "0" / "sample_logs" / "README.md"
        assert readme.exists() and readme.stat().st_size == 0  # a name only, no download
        logs = sum(p.stat().st_size for p in SAMPLES.rglob("*") if remote.wanted(p.name))
        assert copy.fetched_bytes == logs
    finally:
        copy.close()


def test_one_object_url_is_a_run_and_load_run_reads_it(s3):
    name = next(p.name for p in (SAMPLES / "torch_tb_cosine").iterdir())
    run = load_run(f"{PREFIX}/torch_tb_cosine/{name}")
    assert run.path == f"{PREFIX}/torch_tb_cosine/{name}"
    table = read_scalars(f"{PREFIX}/torch_tb_cosine/{name}")
    assert table.equals(read_scalars(SAMPLES / "torch_tb_cosine" / name))


def test_missing_bucket_is_one_problem_line(s3):
    res = runner.invoke(app, ["check", "s3://no-such-bucket/work_dirs/"])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        "logan: s3://no-such-bucket/work_dirs/: not found (no such bucket, prefix or object); "
        "check the URL"
    )


def test_a_url_and_a_local_run_together(s3):
    analysis = analyze(["s3://no-such-bucket/x", str(SAMPLES / "hf_cosine")])
    assert [r.run.path for r in analysis.results] == [str(SAMPLES / "hf_cosine")]
    assert [p.path for p in analysis.problems] == ["s3://no-such-bucket/x"]


def test_an_object_deleted_between_listing_and_reading_costs_only_itself(s3, monkeypatch):
    s3.put(str(SAMPLES / "hf_cosine") + "/", f"{BUCKET}/vanish/hf_cosine/", recursive=True)
    s3.put(str(SAMPLES / "torch_tb_cosine") + "/", f"{BUCKET}/vanish/tb/", recursive=True)
    gone = next(k for k in s3.find(f"{BUCKET}/vanish/tb") if "tfevents" in k)
    real = remote._list

    def list_then_delete(fs, path):  # type: ignore[no-untyped-def]
        found = real(fs, path)
        s3.rm(gone)
        return found

    monkeypatch.setattr(remote, "_list", list_then_delete)
    analysis = analyze(f"s3://{BUCKET}/vanish")
    assert [r.run.path for r in analysis.results] == [f"s3://{BUCKET}/vanish/hf_cosine"]
    assert [(p.path, p.message) for p in analysis.problems] == [
        (f"s3://{gone}", "vanished between listing and reading; run again if it is being written")
    ]


class _Denied(BaseHTTPRequestHandler):
    """An S3 endpoint that refuses every request, as S3 does for a key without the right."""

    def _deny(self) -> None:
        body = (
            b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
            b"<Message>Access Denied</Message></Error>"
        )
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = do_POST = _deny

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def denying_endpoint(monkeypatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Denied)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    yield endpoint
    server.shutdown()
    server.server_close()


def test_denied_access_is_one_line_without_the_credentials(s3, denying_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sekrit-do-not-print")
    res = runner.invoke(app, ["check", f"s3://{BUCKET}/sample_logs/"])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"logan: s3://{BUCKET}/sample_logs/: access denied; check")
    assert len(res.stderr.strip().splitlines()) == 1
    assert "sekrit" not in res.stderr + res.stdout


@pytest.fixture
def silent_endpoint(monkeypatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A server that accepts connections and never answers (a hung proxy or a dead store)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    yield endpoint
    sock.close()


def test_a_silent_endpoint_is_bounded_by_the_timeout(s3, silent_endpoint, monkeypatch):
    monkeypatch.setattr(remote, "READ_TIMEOUT_S", 0.5)
    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(remote, "ATTEMPTS", 1)
    start = time.monotonic()
    analysis = analyze(f"s3://{BUCKET}/sample_logs/")
    assert time.monotonic() - start < 10
    assert not analysis.results
    [problem] = analysis.problems
    assert problem.path == f"s3://{BUCKET}/sample_logs/"
    assert problem.message.startswith("no answer in time (")


def test_out_may_be_a_url(s3, tmp_path):
    res = runner.invoke(
        app, ["check", str(SAMPLES / "hf_cosine"), "-q", "--out", f"s3://{BUCKET}/reports/"]
    )
    assert res.exit_code in (0, 1), res.stderr
    uploaded = {k.removeprefix(f"{BUCKET}/reports/") for k in s3.find(f"{BUCKET}/reports")}
    assert "index.md" in uploaded or "index.html" in uploaded, uploaded
    assert any(k.endswith("report.json") for k in uploaded)


@pytest.mark.parametrize(
    ("module", "url", "extra"),
    [
        ("fsspec", "s3://bucket/work_dirs/", "s3"),
        ("s3fs", "s3://b/w", "s3"),
        ("gcsfs", "gs://b/w", "gcs"),
    ],
)
def test_without_the_extra_one_line_names_it(module, url, extra, monkeypatch):
    import importlib

    registry = importlib.import_module("fsspec.registry")
    for protocol in ("s3", "gs", "gcs"):  # forget a class already loaded
        monkeypatch.delitem(registry._registry, protocol, raising=False)
    monkeypatch.setitem(sys.modules, module, None)
    res = runner.invoke(app, ["check", url])
    assert res.exit_code == 2
    protocol = url.split("://")[0]
    assert res.stderr == (
        f"logan: {url}: reading {protocol}:// paths needs the optional dependency: "
        f'pip install "logan[{extra}]"\n'
    )


def test_a_url_given_twice_is_analysed_once(s3):
    analysis = analyze([f"{PREFIX}/hf_cosine", f"{PREFIX}/hf_cosine"])
    assert [r.run.path for r in analysis.results] == [f"{PREFIX}/hf_cosine"]


def test_export_takes_a_url(s3):
    local = runner.invoke(app, ["export", str(SAMPLES / "hf_cosine")])
    url = runner.invoke(app, ["export", f"{PREFIX}/hf_cosine"])
    assert url.exit_code == local.exit_code == 0
    assert url.stdout == local.stdout and url.stdout.startswith("step,")


def test_report_reads_a_url_and_writes_to_one(s3):
    res = runner.invoke(
        app, ["report", f"{PREFIX}/hf_cosine", "--out", f"s3://{BUCKET}/one-report/"]
    )
    assert res.exit_code == 0, res.stderr
    assert f"s3://{BUCKET}/one-report/report.json" in res.stdout.splitlines()
    report = json.loads(s3.cat_file(f"{BUCKET}/one-report/report.json"))
    assert report["runs"][0]["path"] == f"{PREFIX}/hf_cosine"


def test_folder_markers_and_unsafe_names_cost_nothing_else(s3):
    s3.put(str(SAMPLES / "hf_cosine") + "/", f"{BUCKET}/odd/hf_cosine/", recursive=True)
    s3.pipe({f"{BUCKET}/odd/empty-folder/": b"", f"{BUCKET}/odd/a//b.log": b"x"})
    analysis = analyze(f"s3://{BUCKET}/odd/")
    assert [r.run.path for r in analysis.results] == [f"s3://{BUCKET}/odd/hf_cosine"]
    assert [(p.path, p.message) for p in analysis.problems] == [
        (f"s3://{BUCKET}/odd/a//b.log", "object name unsafe as a path: skipped")
    ]


def test_schedule_takes_a_url(s3):
    """`logan schedule` on configs in object storage: the same verdict as on disk, the findings
    naming the URL of the config."""
    local = runner.invoke(app, ["schedule", str(SAMPLES / "mmengine_plateau_e4"), "-f", "json"])
    url = runner.invoke(app, ["schedule", f"{PREFIX}/mmengine_plateau_e4", "-f", "json"])
    assert url.exit_code == local.exit_code == 1, url.stderr
    on_disk, remote = json.loads(local.stdout), json.loads(url.stdout)
    assert [len(c["findings"]) for c in remote["configs"]] == [
        len(c["findings"]) for c in on_disk["configs"]
    ]
    assert all(c["path"].startswith(f"{PREFIX}/mmengine_plateau_e4/") for c in remote["configs"])
