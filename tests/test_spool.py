"""Results spooled to disk by `check` (logan/spool.py) read back equal; a slim result's empty
table comes back as the one shared empty table, not a DataFrame rebuilt per result (issue 15:
reading 1,000 results back three times was most of a cached check)."""

from __future__ import annotations

import pickle

import logan.api as api
from logan.spool import SpooledResults
from tests.conftest import SAMPLES


def test_slim_results_read_back_equal_with_the_shared_empty_table():
    full = api.analyze([SAMPLES / "mmengine_plateau_e4", SAMPLES / "hf_cosine"]).results
    slim = [api.slim(r) for r in full]
    # As from a --jobs worker: pickled there, so no longer the shared object itself.
    from_worker = [pickle.loads(pickle.dumps(r)) for r in slim]
    assert from_worker[0].run.scalars is not api._NO_SCALARS
    spool = SpooledResults()
    for r in from_worker:
        spool.append(r)
    back = list(spool)
    assert all(r.run.scalars is api._NO_SCALARS for r in back)
    assert [r.run.path for r in back] == [r.run.path for r in full]
    assert [r.findings for r in back] == [r.findings for r in full]
    assert [r.run.summary for r in back] == [r.run.summary for r in slim]


def test_a_result_with_its_table_keeps_it():
    result = api.analyze([SAMPLES / "mmengine_plateau_e4"]).results[0]
    spool = SpooledResults()
    spool.append(result)
    back = spool[0]
    assert back.run.scalars is not api._NO_SCALARS
    assert back.run.scalars.astype({"tag": str}).equals(result.run.scalars.astype({"tag": str}))
