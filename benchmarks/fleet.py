"""A fleet audit, measured: N runs in a local S3 server (moto, 127.0.0.1), checked with `jobs=2`
and on a two-worker Dask LocalCluster; time, requests and bytes per run, and the listing cost.

The runs are copies of small sample runs (mmengine with a frozen LR, HF, Lightning, TensorBoard),
each under its own prefix, so the verdicts are known. Nothing leaves the machine.
Usage: `python benchmarks/fleet.py [--runs 1000]` (prints the Markdown table for README.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_logs"
# Small runs of four producers; the first has LR001 (a frozen LR) so the audit finds something.
KINDS = ("mmengine_plateau_e4", "hf_cosine", "lightning_healthy", "torch_tb_cosine")
BUCKET = "fleet"


def start_server() -> tuple[object, str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return server, endpoint


def upload(n: int) -> tuple[int, int]:
    """N runs under s3://fleet/work_dirs/run_NNNNN/: (objects, bytes)."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir(BUCKET)
    files = {
        kind: {
            str(p.relative_to(SAMPLES / kind)): p.read_bytes()
            for p in sorted((SAMPLES / kind).rglob("*"))
            if p.is_file()
        }
        for kind in KINDS
    }
    batch: dict[str, bytes] = {}
    objects = size = 0
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        for rel, data in files[kind].items():
            batch[f"{BUCKET}/work_dirs/run_{i:05d}/{rel}"] = data
            objects += 1
            size += len(data)
        if len(batch) > 500:
            fs.pipe(batch)
            batch = {}
    if batch:
        fs.pipe(batch)
    return objects, size


def measure(label: str, **kwargs: object) -> dict[str, object]:
    """One audit of the whole prefix: wall time, split into fetch and analysis."""
    from logan import remote
    from logan.api import analyze

    seen: dict[str, object] = {}
    real_mirror, real_list = remote.mirror, remote._list

    def timed_mirror(paths):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        copy = real_mirror(paths)
        seen["fetch_s"] = time.perf_counter() - start
        seen["bytes"] = copy.fetched_bytes
        return copy

    def timed_list(fs, path):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        found = real_list(fs, path)
        seen["list_s"] = time.perf_counter() - start
        seen["objects"] = len(found)
        return found

    remote.mirror, remote._list = timed_mirror, timed_list
    try:
        start = time.perf_counter()
        analysis = analyze(f"s3://{BUCKET}/work_dirs/", keep_scalars=False, **kwargs)
        total = time.perf_counter() - start
    finally:
        remote.mirror, remote._list = real_mirror, real_list
    verdicts = Counter(tuple(sorted({f.code for f in r.findings})) for r in analysis.results)
    return {
        "label": label,
        "total_s": total,
        "runs": len(analysis.results),
        "problems": len(analysis.problems),
        "verdicts": dict(verdicts),
        **seen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    server, endpoint = start_server()
    try:
        start = time.perf_counter()
        objects, size = upload(args.runs)
        print(f"uploaded {args.runs} runs: {objects} objects, {size / 1e6:.1f} MB in "
              f"{time.perf_counter() - start:.1f} s to {endpoint}")  # fmt: skip
        rows = [measure("jobs=2", jobs=2)]
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=2,
                processes=True,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=50,
            ) as cluster,
            Client(cluster) as client,
        ):
            rows.append(measure("Dask LocalCluster, 2 workers", executor=client.get_executor()))
    finally:
        server.stop()  # type: ignore[attr-defined]
    assert rows[0]["verdicts"] == rows[1]["verdicts"], "the two engines disagree"
    print(f"\nMachine: nproc {os.cpu_count()}, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}\n")  # fmt: skip
    print("| engine | runs | objects listed | list s | fetch s | analysis s | total s "
          "| ms per run | KB fetched per run |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        n = int(r["runs"]) or 1
        analysis_s = float(r["total_s"]) - float(r["fetch_s"])
        print(
            f"| {r['label']} | {r['runs']} | {r['objects']} | {float(r['list_s']):.2f} "
            f"| {float(r['fetch_s']):.1f} | {analysis_s:.1f} | {float(r['total_s']):.1f} "
            f"| {1000 * float(r['total_s']) / n:.0f} | {int(r['bytes']) / n / 1024:.1f} |"
        )
    print(f"\nverdicts (codes -> runs): {rows[0]['verdicts']}; problems: {rows[0]['problems']}")


if __name__ == "__main__":
    main()
