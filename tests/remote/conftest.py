"""A real S3 API on 127.0.0.1 for the remote-path tests: moto's server mode, started once per
session with the repo's sample runs uploaded, and stopped at the end. Credentials are fake and
come from the environment, as a user's would; no profile file of the machine is read."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from tests.conftest import SAMPLES

BUCKET = "logan-test"
PREFIX = f"s3://{BUCKET}/sample_logs"


def s3_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint of a moto S3 server holding sample_logs/ under s3://logan-test/sample_logs."""
    pytest.importorskip("s3fs")
    server_mod = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log in the test output
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in s3_env(endpoint).items():
            mp.setenv(key, value)
        import s3fs

        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        fs.mkdir(BUCKET)
        fs.put(str(SAMPLES) + "/", f"{BUCKET}/sample_logs/", recursive=True)
        yield endpoint
    server.stop()


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """An s3fs filesystem on the test server, with the environment set for logan too."""
    import s3fs

    for key, value in s3_env(s3_server).items():
        monkeypatch.setenv(key, value)
    return s3fs.S3FileSystem(skip_instance_cache=True)
