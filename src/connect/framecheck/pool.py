"""Where classification runs: a bounded process pool behind a small interface.

The service only awaits :meth:`FramePool.classify`; what is behind it is the
operator's choice. :class:`ProcessFramePool` (the one built in) runs the
classifier in ``size`` worker processes of this node, the model loaded once
per worker by the pool's initializer, so inference never runs on the event
loop nor holds the GIL the event loop needs. To classify on other machines an
implementation would hand the frame to a task queue the operator already runs
(docs/operations.md: Celery or Dramatiq workers over Redis/RabbitMQ, or a NATS
JetStream work queue) and await its answer; nothing else changes.

Workers are started with ``spawn``: forking a process that runs an event loop,
threads and open sockets is unsafe, and a spawned worker imports only the
classifier's module.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from connect.framecheck import classifier as classifiers


class FramePool(Protocol):
    async def classify(self, jpeg: bytes) -> dict[str, float]:
        """Scores for one frame; raises on failure (the caller counts it)."""
        ...

    async def close(self) -> None: ...


_worker: classifiers.Classifier | None = None


def _init_worker(name: str) -> None:
    global _worker
    _worker = classifiers.load(name)


def _classify_in_worker(jpeg: bytes) -> dict[str, float]:
    assert _worker is not None, "the pool's initializer did not run"
    return _worker.classify(jpeg)


class ProcessFramePool:
    """``size`` spawned processes, each holding one loaded classifier."""

    def __init__(self, classifier: str, size: int) -> None:
        self._name = classifier
        self._size = size
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self._size,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self._name,),
            )
        return self._executor

    async def classify(self, jpeg: bytes) -> dict[str, float]:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool(), _classify_in_worker, jpeg)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): the next frame gets a fresh pool.
            broken, self._executor = self._executor, None
            if broken is not None:
                broken.shutdown(wait=False, cancel_futures=True)
            raise

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
