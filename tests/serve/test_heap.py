"""The server's garbage collection (serve/heap.py): full collections only when idle after work, or overdue."""

from __future__ import annotations

import gc

import serve.heap
from serve.heap import YOUNG_ENOUGH, HeapKeeper, release_free_memory


def test_the_whole_heap_is_collected_once_the_service_falls_idle(monkeypatch):
    trims: list[int] = []
    monkeypatch.setattr(serve.heap, "release_free_memory", lambda: trims.append(1))
    state = {"busy": True}
    keeper = HeapKeeper(busy=lambda: state["busy"], full_every_s=3600)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        garbage = [[] for _ in range(YOUNG_ENOUGH + 10)]  # enough young allocations for a young collection
        assert keeper.tick() == 1  # busy: only the young generations
        del garbage
        assert keeper.tick() in (1, None)
        state["busy"] = False
        assert keeper.tick() == 2  # idle after work: the whole heap, once, and the free memory goes back
        assert keeper.tick() is None and trims == [1]
        keeper.full_every_s = 0
        state["busy"] = True
        assert keeper.tick() == 2  # overdue: even under load (not trimmed then)
        assert trims == [1]
    finally:
        if was_enabled:
            gc.enable()


def test_a_running_server_collects_by_itself_and_gives_collection_back(client):
    """With a model loaded, the long-lived objects are frozen and automatic collection is the keeper's."""
    assert gc.get_freeze_count() > 0
    assert not gc.isenabled()
    assert "stance_requests_in_flight 0.0" in client.get("/metrics").text


def test_free_memory_goes_back_to_the_system_on_glibc():
    import platform

    assert release_free_memory() is (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")
