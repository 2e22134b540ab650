"""The one threaded frame loop: work on named daemon threads joined by bounded queues, as roboflow/supervision's
`process_video` does. The offline pipeline (`analyzer.pipeline.threads`: decoder thread -> pose -> render thread),
live mode (`analyzer.live.loop`: capture thread -> pose stage -> kinematics; `analyzer.live.browser`) and recording
all run on these pieces:

  - `Worker`   runs a function on a named daemon thread; its error is kept and re-raised on the caller's thread by
               `join_raise()`.
  - `Stage`    a Worker that runs fn(item) on each item of its own bounded queue, in order (and, when asked, queues
               fn's results for the caller: `results()`). What a full queue does is the stage's `policy`:
                 "block"        put() waits for room: no item is lost (the offline pipeline, a file read every frame);
                 "drop_oldest"  the new item replaces the oldest waiting one, counted in `dropped`: processing never
                                lags behind a camera (live mode);
                 "drop_newest"  the new item is refused, counted in `dropped` (a recorder keeps what it has queued).
               close() lets it finish what is queued and end; cancel() (its stop event) ends it at once.
  - `put` / `get`  the waits on a plain bounded `queue.Queue` that give up when a stop event is set (polled every
               POLL_S); `get` returns END then.

Knows nothing about frames beyond passing them along: any item goes.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator, Literal

#: End of a queue: get() returns it once the producer has finished (or the loop was stopped).
END = object()
#: How often a blocked put() / get() looks at its stop event (s).
POLL_S = 0.1

Policy = Literal["block", "drop_oldest", "drop_newest"]
POLICIES: tuple[str, ...] = ("block", "drop_oldest", "drop_newest")


def put(q: queue.Queue, item: Any, stop: threading.Event) -> bool:
    """Wait for room in q and queue item; False (item not queued) when stop is set first."""
    while not stop.is_set():
        try:
            q.put(item, timeout=POLL_S)
            return True
        except queue.Full:
            continue
    return False


def get(q: queue.Queue, stop: threading.Event) -> Any:
    """The next item of q, waiting for one; END when stop is set and q is empty (queued items still come first)."""
    while True:
        try:
            return q.get(timeout=POLL_S)
        except queue.Empty:
            if stop.is_set():
                return END


class Worker(threading.Thread):
    """Runs fn() on a named daemon thread; an exception is kept in `error` and re-raised by join_raise() on the
    caller's thread."""

    def __init__(self, fn: Callable[[], None], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.fn = fn
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.fn()
        except BaseException as e:  # noqa: BLE001 - forwarded to the caller's thread
            self.error = e

    @property
    def ended(self) -> bool:
        """Started and finished (normally or by an error)."""
        return self.ident is not None and not self.is_alive()

    def join_raise(self, timeout: float | None = None) -> None:
        """Wait for the thread (at most timeout s) and raise its error, if it had one."""
        self.join(timeout)
        if self.error is not None:
            raise self.error


class Stage(Worker):
    """fn(item) for each item put(), in order, on a named daemon thread over a bounded queue of `maxsize` items.

    policy: what put() does when the queue is full ("block" | "drop_oldest" | "drop_newest", see the module
    docstring); `dropped` counts the items it discarded. results: when given, fn's return values go to a queue of
    that many items (put waits for the reader: no result is lost) that `results()` reads, in order, until the stage
    ends. stop: an event shared with other threads of the same loop (a new one when None); setting it, or cancel(),
    ends the stage after the item in hand and makes waiting put() / results() give up.

    The stage ends after close() (the items already queued are still processed), on the stop event, or when fn
    raises; the error is re-raised by join_raise(). put() never raises: it returns False for an item not queued
    (dropped, closed, stopped, or the thread has ended)."""

    def __init__(self, fn: Callable[[Any], Any], name: str, maxsize: int, policy: Policy = "block",
                 results: int | None = None, stop: threading.Event | None = None) -> None:
        if policy not in POLICIES:
            raise ValueError(f"Stage policy must be one of {POLICIES}, got {policy!r}")
        if maxsize < 1 or (results is not None and results < 1):
            raise ValueError(f"Stage queues hold at least one item, got maxsize={maxsize}, results={results}")
        super().__init__(self._loop, name)
        self.each = fn
        self.policy = policy
        self.inbox: queue.Queue = queue.Queue(maxsize=maxsize)
        self.out: queue.Queue | None = None if results is None else queue.Queue(maxsize=results)
        self.stop = stop if stop is not None else threading.Event()
        self.dropped = 0
        self._closed = False
        self._lock = threading.Lock()  # put() and close() from several producer threads

    def _loop(self) -> None:
        try:
            while not self.stop.is_set() and (item := get(self.inbox, self.stop)) is not END:
                result = self.each(item)
                if self.out is not None and not put(self.out, result, self.stop):
                    return
        finally:
            if self.out is not None:
                put(self.out, END, self.stop)

    def _wait_put(self, item: Any) -> bool:
        """Queue item, waiting for room while the stage runs (or has not started yet)."""
        while not self.stop.is_set() and not self.ended:
            try:
                self.inbox.put(item, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def put(self, item: Any) -> bool:
        """Hand item to the stage, as its policy says; True when it was queued."""
        if self.policy == "block":
            return not self._closed and self._wait_put(item)
        with self._lock:
            if self._closed or self.stop.is_set() or self.ended:
                return False
            while True:
                try:
                    self.inbox.put_nowait(item)
                    return True
                except queue.Full:
                    if self.policy == "drop_newest":
                        self.dropped += 1
                        return False
                try:
                    self.inbox.get_nowait()  # drop_oldest: make room (unless the stage just took it)
                    self.dropped += 1
                except queue.Empty:
                    pass

    def close(self) -> None:
        """No more items: the ones queued are still processed, then the stage ends (and results() with it). Waits
        for room for the end mark, so it returns once the stage has taken all but its last item at most."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wait_put(END)

    def cancel(self) -> None:
        """End at once: the stage stops after the item in hand, queued items are discarded, waiting put() and
        results() give up. Sets the (possibly shared) stop event."""
        self.stop.set()

    def results(self) -> Iterator[Any]:
        """fn's results in order, until the stage ends (closed, cancelled, or fn raised: see join_raise())."""
        if self.out is None:
            raise RuntimeError(f"stage {self.name!r} keeps no results (create it with results=N)")
        while (r := get(self.out, self.stop)) is not END:
            yield r
