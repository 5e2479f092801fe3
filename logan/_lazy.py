"""Deferred imports for commands that only need the rule registry (`logan rules`): importing the
check modules must not cost numpy and pandas (a quarter of a second) when no check runs.

Inside `deferred("numpy", "pandas")`, `import numpy as np` in a module not imported before binds
`np` to a stand-in that imports the real module on its first attribute access and from then on
holds the real module's names; on leaving, stand-ins nobody touched leave `sys.modules`, so every
later `import numpy` gets the real module.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager


class _StandIn(types.ModuleType):
    """A module that becomes the real one on first use (its names copied in)."""

    def __getattr__(self, attr: str) -> object:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


@contextmanager
def deferred(*names: str) -> Iterator[None]:
    """Bind each not-yet-imported module in `names` to a stand-in while inside."""
    added = {}
    for name in names:
        if name not in sys.modules:
            added[name] = sys.modules[name] = _StandIn(name)
    try:
        yield
    finally:
        for name, stand_in in added.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
