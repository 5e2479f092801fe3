"""Results kept on disk while a large check runs, so that memory does not grow with the number
of runs: each slim result is pickled to an anonymous temporary file as it arrives and read back
on demand (the reporters walk the results once or twice, in an order they choose).

Only `check` uses it (slim results, `keep_scalars=False`): the library's `analyze()` returns a
plain list by default.
"""

from __future__ import annotations

import io
import pickle
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from typing import IO, Any, overload

import pandas as pd

from logan.model import RunResult

# A slim result's empty scalar table is stored as this name and read back as the one shared
# empty table (api._NO_SCALARS): rebuilding a DataFrame per result was most of the time a
# cached check of a thousand runs spent reading its results back (three passes).
_SHARED_EMPTY = "logan:no-scalars"


def _shared_empty() -> Any:
    from logan.api import _NO_SCALARS

    return _NO_SCALARS


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> str | None:
        if isinstance(obj, pd.DataFrame) and obj.empty:
            shared = _shared_empty()
            if obj is shared or (
                list(obj.columns) == list(shared.columns) and obj.dtypes.equals(shared.dtypes)
            ):
                return _SHARED_EMPTY
        return None


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        if pid == _SHARED_EMPTY:
            return _shared_empty()
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


class SpooledResults(Sequence[RunResult]):
    """A read-only sequence of RunResults stored in a temporary file (8 bytes per run in memory:
    its offset). The file is deleted when the sequence is garbage-collected or closed."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = tempfile.TemporaryFile(prefix="logan-results-")
        self._offsets = array("q")
        self._end = 0

    def append(self, result: RunResult) -> None:
        buf = io.BytesIO()
        _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(result)
        data = buf.getvalue()
        fh = self._open()
        fh.seek(self._end)
        fh.write(data)
        self._offsets.append(self._end)
        self._end += len(data)

    def __len__(self) -> int:
        return len(self._offsets)

    @overload
    def __getitem__(self, index: int) -> RunResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[RunResult]: ...

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self._offsets)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        fh = self._open()
        fh.seek(self._offsets[index])
        return _Unpickler(fh).load()  # our own file, written by this process just now

    def __iter__(self) -> Iterator[RunResult]:
        for i in range(len(self)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SpooledResults({len(self)} results on disk)"

    def _open(self) -> IO[bytes]:
        if self._file is None:
            raise ValueError("the spooled results were closed")
        return self._file

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __del__(self) -> None:
        self.close()  # the file is anonymous: closing it frees its disk space

    def __reduce__(self) -> Any:
        # Sent to another process (a worker, a cache): as the plain list it stands for.
        return (list, (list(self),))
