"""A daemon worker: one thread fed through a queue, started and stopped with the daemon
(``None`` on the queue asks the thread to end; ``stop`` waits for it, bounded)."""

from __future__ import annotations

import queue
import threading
from typing import Generic, TypeVar

Item = TypeVar("Item")


class QueueWorker(Generic[Item]):
    #: The thread's name (shown by py-spy and in logs).
    thread_name = "fleet-worker"

    def __init__(self) -> None:
        self._queue: queue.Queue[Item | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError
