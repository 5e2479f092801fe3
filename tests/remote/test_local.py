"""Local paths pay nothing for remote support: no fsspec, s3fs or Dask is imported."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, SAMPLES


def test_a_local_check_imports_no_remote_or_cluster_library():
    code = (
        "import sys\n"
        "from logan.cli import main\n"
        f"sys.argv = ['logan', 'check', {str(SAMPLES / 'hf_cosine')!r}, '-q', '-f', 'json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'fsspec', 's3fs', 'gcsfs', "
        "'distributed', 'dask', 'botocore', 'aiobotocore'})\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert "LOADED []" in res.stderr, res.stderr[-2000:]
    assert '"path": ' in res.stdout
