"""The server's garbage collection, kept out of the way of /healthz.

A full collection walks every live object while holding the GIL, so every thread, the event loop's included, waits
for it. Two sources of live objects made those pauses long enough to stall /healthz past 0.1 s:
- the libraries and the model (about 400,000 objects, 0.2 s a walk): frozen out of the collector's reach once a
  model has loaded (`freeze_long_lived_objects`, called by `serve.handle.load_handle`);
- a large request's own sentences, pairs and predictions (a few hundred thousand objects for a 100,000-character
  text of short sentences, 0.06-0.1 s a walk): `HeapKeeper` turns automatic collection off, collects the young
  generations every ``young_every_s`` (cheap: only what was allocated since), and runs the full collection once the
  service falls idle after work (no prediction request in flight), or at the latest every ``full_every_s`` under
  uninterrupted load.
Objects are still freed as soon as nothing refers to them; only reference cycles wait for a collection. After the
idle collection the C allocator hands its free pages back to the system (glibc's ``malloc_trim``), so the memory a
burst of large requests took does not stay with the process (`make bench-serve` reports the server's RSS).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import time
from collections.abc import Callable
from functools import lru_cache

YOUNG_ENOUGH = 700  # allocations since the last collection that make one worth it (the collector's own default)


def freeze_long_lived_objects() -> None:
    """Move every object alive now out of the collector's reach. The unfreeze first lets the collector reclaim the
    reference cycles of a model that a reload replaced."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def release_free_memory() -> bool:
    """Return the C allocator's free memory to the system (glibc); False where there is no ``malloc_trim``."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@lru_cache(maxsize=1)
def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not Linux, or not glibc
        return None


class HeapKeeper:
    """Collects young generations often and the whole heap when the service is idle (``busy()`` false)."""

    def __init__(self, busy: Callable[[], bool], young_every_s: float = 0.02, full_every_s: float = 300.0) -> None:
        self.busy = busy
        self.young_every_s = young_every_s
        self.full_every_s = full_every_s
        self.last_full = time.monotonic()
        self.dirty = False  # work was seen since the last full collection
        self._task: asyncio.Task | None = None
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._was_enabled:
            gc.enable()

    def tick(self) -> int | None:
        """One round: the generation collected (2: the whole heap, once the service falls idle after work, or when
        overdue; 1: the young generations, when enough was allocated since; None: nothing to do)."""
        now, busy = time.monotonic(), self.busy()
        self.dirty = self.dirty or busy
        if (self.dirty and not busy) or now - self.last_full >= self.full_every_s:
            gc.collect()
            if not busy:
                release_free_memory()
            self.last_full, self.dirty = now, False
            return 2
        if gc.get_count()[0] >= YOUNG_ENOUGH:
            gc.collect(1)
            return 1
        return None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.young_every_s)
            self.tick()
