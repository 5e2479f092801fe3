"""LR003's valley walk jumps from run end to run end (issue 15: it walked every logged point in
Python). It must find exactly the valleys the point-by-point walk found; that walk is kept here
as the reference."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from logan.checks.lr import _valleys


def _walk(values, peak, tol, rise):  # the point-by-point walk LR003 used before
    values = list(values)
    out = []
    i, n = 0, len(values)
    while i < n - 1:
        low = i
        while low + 1 < n and values[low + 1] <= values[low] * (1 + max(1e-12, tol[1])) + tol[0]:
            low += 1
        up = low
        while up + 1 < n and values[up + 1] >= values[up]:
            up += 1
            if values[up] - values[low] >= rise * peak:
                break
        if values[up] - values[low] >= rise * peak:
            out.append((low, up))
            while up + 1 < n and values[up + 1] >= values[up]:
                up += 1
        i = max(up, low + 1)
    return out


def _cosine_cycles(n: int, period: int) -> np.ndarray:
    return np.array([0.5 * (1 + math.cos(math.pi * (k % (2 * period)) / period)) for k in range(n)])


def test_same_valleys_as_the_walk_on_shapes_lr003_meets():
    rng = np.random.default_rng(3)
    shapes = [
        _cosine_cycles(500, 24),  # T_max in the wrong unit: many cycles
        np.cos(np.linspace(0, math.pi, 400)) + 1,  # one decay, no valley
        np.repeat([1.0, 0.1, 0.01], 50),  # steps, flat runs
        np.r_[np.linspace(0, 1, 20), _cosine_cycles(300, 40)],  # warmup then cycles
        _cosine_cycles(300, 30) + rng.normal(0, 0.01, 300),  # noisy
        np.float32(_cosine_cycles(300, 17)).astype("float64"),  # float32 rounding
    ]
    for values in shapes:
        peak = float(values.max())
        for tol in ((0.0, 0.0), (1e-8, 1e-4), (0.05, 0.0)):
            for rise in (0.25, 0.0, 0.9):
                assert _valleys(values, peak, tol, rise) == _walk(values, peak, tol, rise)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.0 + 1e-9]), max_size=60),
    st.sampled_from([(0.0, 0.0), (1e-8, 1e-4), (0.1, 0.0)]),
    st.sampled_from([0.25, 0.0, 0.6]),
)
def test_same_valleys_as_the_walk_on_any_sequence(values, tol, rise):
    arr = np.array(values, dtype="float64")
    peak = float(arr.max()) if len(arr) else 1.0
    assert _valleys(arr, peak, tol, rise) == _walk(arr, peak, tol, rise)
