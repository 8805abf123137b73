"""Cross-request micro-batching: concurrent requests share model calls, which run off the event loop.

Requests submit their model inputs (pairs for the pair tasks, sentence texts for the sentence tasks) and await a
future. One loop takes the first waiting job with every job queued behind it (jobs that arrived while the model
was busy), up to ``max_items`` inputs, and, when ``max_wait`` is set, lets more join for that long; it runs them as
one model call on the one model thread and hands each job its share of the results. With no wait (the default) an
idle model starts at once, and under load the batches grow by themselves: whatever queues during one call is the
next call.
Jobs only share a call with jobs for the same loaded model, so a hot reload never mixes two models' labels.

Admission is by estimated time: the work ahead of a new request (queued and running inputs, plus its own) divided
by the measured throughput (inputs per second of recent model calls). When that exceeds ``max_wait_s`` the request
is refused at once (`Overloaded`: 429 with a ``Retry-After`` of the excess), so accepted requests finish within the
request timeout instead of waiting into a 504. Before the first model call there is no throughput to go by, and only
the item limit of the queue applies (`QueueFull`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from model.pipeline import Predictions
from model.types import Pair, Prediction
from serve.errors import Overloaded, QueueFull, TooManyInputs
from serve.handle import ModelHandle, warm_up
from serve.metrics import ServiceMetrics


@dataclass
class Job:
    handle: ModelHandle
    pairs: Sequence[Pair]
    texts: Sequence[str]
    future: asyncio.Future
    enqueued: float = field(default_factory=time.perf_counter)

    @property
    def size(self) -> int:
        return len(self.pairs) + len(self.texts)


class MicroBatcher:
    THROUGHPUT_MEMORY = 0.7  # how much of the earlier calls' inputs and seconds the throughput estimate keeps

    def __init__(
        self,
        max_items: int,
        max_wait_s: float,
        max_queue_items: int,
        metrics: ServiceMetrics,
        max_queue_wait_s: float | None = None,
    ) -> None:
        self.max_items = max_items
        self.max_wait_s = max_wait_s
        self.max_queue_items = max_queue_items
        self.max_queue_wait_s = max_queue_wait_s
        self.throughput: float | None = None  # model inputs per second, measured
        self.running_items = 0
        self._recent_items = 0.0
        self._recent_seconds = 0.0
        self.metrics = metrics
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.carry: deque[Job] = deque()
        self.queued_items = 0
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stance-model")
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._loop(), name="micro-batcher")

    async def stop(self) -> None:
        """Finish what is queued, then stop the loop and the worker thread."""
        while self.queued_items > 0 and self.task is not None and not self.task.done():
            await asyncio.sleep(0.01)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.executor.shutdown(wait=True)

    async def predict(self, handle: ModelHandle, pairs: Sequence[Pair], texts: Sequence[str]) -> Predictions:
        """(pair-task predictions for ``pairs``, sentence-task predictions for ``texts``)."""
        job = Job(handle, pairs, texts, asyncio.get_running_loop().create_future())
        if job.size == 0:
            return [], []
        if job.size > self.max_queue_items:
            raise TooManyInputs(job.size, self.max_queue_items)
        if self.queued_items + job.size > self.max_queue_items:
            raise QueueFull(self.queued_items, self.max_queue_items)
        wait = self.estimated_wait_s(job.size)
        ahead = self.queued_items + self.running_items
        busy = ahead > 0  # a request alone is never refused for its own size
        if busy and wait is not None and self.max_queue_wait_s is not None and wait > self.max_queue_wait_s:
            assert self.throughput is not None  # a wait is estimated only from a measured throughput
            retry = max(1, math.ceil(wait - self.max_queue_wait_s))
            raise Overloaded(wait, ahead, self.throughput, self.max_queue_wait_s, retry)
        self.queued_items += job.size
        self.metrics.queued_items.set(self.queued_items)
        self.queue.put_nowait(job)
        try:
            return await job.future
        except asyncio.CancelledError:  # the request timed out or its client left: skip its model work
            job.future.cancel()
            raise

    async def warm_up(self, handle: ModelHandle) -> None:
        """A warm-up prediction on the model thread (its OpenMP team and kernels are ready for the first request)."""
        await asyncio.get_running_loop().run_in_executor(self.executor, warm_up, handle.predictor)

    def estimated_wait_s(self, size: int) -> float | None:
        """Seconds until a new request of ``size`` inputs would be computed, at the measured throughput."""
        if not self.throughput:
            return None
        return (self.queued_items + self.running_items + size) / self.throughput

    def _measured(self, items: int, seconds: float) -> None:
        """Inputs over seconds of recent calls, older ones fading: big batches weigh by their size, so a few tiny
        calls (mostly overhead) do not make a loaded server look slow."""
        if items <= 0 or seconds <= 0:
            return
        keep = self.THROUGHPUT_MEMORY
        self._recent_items = keep * self._recent_items + items
        self._recent_seconds = keep * self._recent_seconds + seconds
        self.throughput = self._recent_items / self._recent_seconds

    async def _next(self, timeout: float | None) -> Job | None:
        """The next job: carried over, already queued, or arriving within ``timeout`` (None: wait for one)."""
        if self.carry:
            return self.carry.popleft()
        if not self.queue.empty() or (timeout is not None and timeout <= 0):
            return None if self.queue.empty() else self.queue.get_nowait()
        if timeout is None:
            return await self.queue.get()
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._next(None)
            assert first is not None
            batch, items = [first], first.size
            deadline = loop.time() + self.max_wait_s
            while items < self.max_items:
                job = await self._next(deadline - loop.time())
                if job is None:
                    break
                if job.handle is not first.handle:
                    self.carry.append(job)
                    break
                batch.append(job)
                items += job.size
            self.queued_items -= items
            self.metrics.queued_items.set(self.queued_items)
            live = [j for j in batch if not j.future.done()]  # timed-out (cancelled) requests are not computed
            if not live:
                self.metrics.skipped_requests.inc(len(batch))
                continue
            now = time.perf_counter()
            self.metrics.skipped_requests.inc(len(batch) - len(live))
            for job in live:
                self.metrics.queue_seconds.observe(now - job.enqueued)
            running = sum(j.size for j in live)
            self.running_items += running
            try:
                results = await loop.run_in_executor(self.executor, self._run, first.handle, live)
            except Exception as exc:  # a failed model call fails its requests, not the loop
                for job in live:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            finally:
                self.running_items -= running
            self._measured(running, time.perf_counter() - now)
            self.metrics.inference_seconds.observe(time.perf_counter() - now)
            self.metrics.batch_items.observe(sum(j.size for j in live))
            self.metrics.batch_requests.observe(len(live))
            for job, result in zip(live, results, strict=True):
                if not job.future.done():
                    job.future.set_result(result)

    def _run(self, handle: ModelHandle, jobs: list[Job]) -> list[tuple[list[Prediction], list[Prediction]]]:
        pairs = [p for j in jobs for p in j.pairs]
        texts = [t for j in jobs for t in j.texts]
        pair_out, text_out = handle.analyzer.predict(pairs, texts)  # the model's own predict step
        results, p, t = [], 0, 0
        for job in jobs:
            results.append((pair_out[p : p + len(job.pairs)], text_out[t : t + len(job.texts)]))
            p += len(job.pairs)
            t += len(job.texts)
        return results
