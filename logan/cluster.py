"""An existing distributed engine for fleets of runs: `--executor dask://HOST:PORT` becomes a
concurrent.futures.Executor that `logan.analyze(executor=...)` maps the per-run analysis onto.

logan has no scheduler, queue or worker of its own: Dask places the work, its workers write the
reports (the sink runs where the run is analysed) and send back slim results. `distributed` is an
optional extra (`pip install "logan[dask]"`), imported only when an address is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

from logan.errors import LoganError

# Connecting to a scheduler that is not there should fail in seconds, not hang the command.
CONNECT_TIMEOUT_S = 20


@contextmanager
def executor_for(address: str) -> Iterator[Executor]:
    """An Executor on the cluster at `address` (`dask://HOST:PORT`, or the scheduler's own
    `tcp://HOST:PORT`); the connection closes when the block ends."""
    scheme, sep, rest = address.partition("://")
    if not sep or scheme not in ("dask", "tcp", "tls"):
        raise LoganError(
            f"--executor {address}: expected dask://HOST:PORT (a running Dask scheduler)"
        )
    try:
        from distributed import Client
    except ImportError as exc:
        raise LoganError(
            f'--executor {address}: needs the optional dependency: pip install "logan[dask]"'
        ) from exc
    target = f"tcp://{rest}" if scheme == "dask" else address
    try:
        client = Client(target, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise LoganError(
            f"--executor {address}: no Dask scheduler answers there ({type(exc).__name__}); "
            "start one (dask scheduler) or check the address"
        ) from exc
    try:
        yield client.get_executor()
    finally:
        client.close()
