"""LS002's rolling median/MAD z-score got faster (issue 15: it was a fifth of a large tree's
check time): short histories by one sort of a small matrix, the MAD only where a spike is
possible. The numbers must stay exactly those of the plain per-point medians, kept here as the
reference."""

from __future__ import annotations

import numpy as np
import pytest

from logan.checks.loss import Z_CLIP, _robust_z


def _reference(values, window, min_history):  # the per-point computation LS002 used before
    values = np.clip(values, -Z_CLIP, Z_CLIP)
    n = len(values)
    med = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    for i in range(min_history, n):
        w = values[max(0, i - window) : i]
        med[i] = np.median(w)
        mad[i] = np.median(np.abs(w - med[i]))
    scale = 1.4826 * mad
    scale = np.where(scale > 0, scale, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (values - med) / scale, med, scale


def _series(kind: str, n: int) -> np.ndarray:
    rng = np.random.default_rng(len(kind) * 1000 + n)
    x = np.arange(1, n + 1, dtype="float64")
    if kind == "noisy":
        y = 2 / np.sqrt(x) + 0.05 * rng.random(n)
        y[n // 3] *= 20
        return y
    if kind == "ties":  # rounded losses: many equal values, MAD 0 in places
        return np.round(rng.random(n) * 4) / 4
    if kind == "huge":
        y = rng.random(n)
        y[n // 2 :] = 1e300
        return y
    return np.full(n, 0.5)  # constant


@pytest.mark.parametrize("kind", ["noisy", "ties", "huge", "constant"])
@pytest.mark.parametrize("n", [10, 21, 49, 50, 51, 300, 2_000])
@pytest.mark.parametrize(("window", "history"), [(50, 20), (8, 3), (50, 49)])
def test_same_numbers_as_per_point_medians(kind, n, window, history):
    values = _series(kind, n)
    want = _reference(values, window, history)
    got = _robust_z(values, window, history)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


def test_same_numbers_across_chunks(monkeypatch):
    """Sliding windows go through in chunks of CHUNK rows: boundaries change nothing."""
    from logan.checks import loss

    monkeypatch.setattr(loss, "CHUNK", 37)
    for kind in ("noisy", "ties"):
        values = _series(kind, 1_000)
        want = _reference(values, 50, 20)
        for a, b in zip(_robust_z(values, 50, 20), want, strict=True):
            np.testing.assert_array_equal(a, b)
        chosen = np.zeros(1_000, dtype=bool)
        chosen[::7] = True
        z, med, scale = _robust_z(values, 50, 20, needed=lambda m, c=chosen: c)
        np.testing.assert_array_equal(z[chosen], want[0][chosen])


def test_mad_only_where_needed_gives_the_same_numbers_there():
    values = _series("noisy", 3000)
    z, med, scale = _robust_z(values, 50, 20)
    chosen = np.zeros(3000, dtype=bool)
    chosen[[25, 49, 50, 1000, 2999]] = True
    z2, med2, scale2 = _robust_z(values, 50, 20, needed=lambda m: chosen)
    np.testing.assert_array_equal(med2, med)
    np.testing.assert_array_equal(z2[chosen], z[chosen])
    np.testing.assert_array_equal(scale2[chosen], scale[chosen])
    assert np.isnan(z2[~chosen]).all()
