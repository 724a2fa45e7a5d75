"""Holding off Python's cyclic garbage collector while a build makes its many objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic collector off for a block, then as it was.

    A rebuild leaves tens of thousands of new containers alive (the IR, the filled score, a list per
    note): enough to set off the collector's full passes, each of which walks the whole heap (some 100 ms
    on a small machine) to find next to nothing, as reference counting frees the last build. A watch loop
    or the language server holds this across a build and its outputs, and collects when idle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
