"""The one threaded frame loop (`analyzer.media.frame_loop`): order, drop policies, errors, stopping, joining."""
from __future__ import annotations

import queue
import threading
import time

import pytest

from analyzer.media.frame_loop import END, Stage, Worker, get, put

#: Generous bound for a thread to react (the loop polls its stop event every 0.1 s); a shared 2-core machine.
REACT_S = 5.0


def _gate_stage(policy: str, maxsize: int = 1, results: int | None = None) -> tuple[Stage, threading.Event, list]:
    """A stage whose fn waits for `gate` on its first item, so the test fills the queue behind it."""
    gate, seen = threading.Event(), []

    def fn(item):
        if not seen:
            assert gate.wait(REACT_S)
        seen.append(item)
        return item * 10

    return Stage(fn, "test-stage", maxsize=maxsize, policy=policy, results=results), gate, seen


def _wait_until(cond, timeout: float = REACT_S) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def test_block_policy_keeps_every_item_in_order():
    stage = Stage(lambda x: x * 2, "test-block", maxsize=2, policy="block", results=2)
    stage.start()
    got: list = []
    reader = Worker(lambda: got.extend(stage.results()), "test-reader")
    reader.start()
    assert all(stage.put(i) for i in range(200))
    stage.close()
    stage.join_raise(REACT_S)
    reader.join_raise(REACT_S)
    assert got == [2 * i for i in range(200)] and stage.dropped == 0
    assert not stage.is_alive() and not reader.is_alive()


def test_drop_oldest_keeps_the_newest_waiting_item():
    stage, gate, seen = _gate_stage("drop_oldest", maxsize=2)
    stage.start()
    assert stage.put(0)
    _wait_until(lambda: stage.inbox.empty())  # 0 is in hand (fn waits at the gate)
    assert all(stage.put(i) for i in range(1, 6))  # 1..5 into a 2-item queue: 1, 2, 3 are replaced
    assert stage.dropped == 3
    gate.set()
    stage.close()
    stage.join_raise(REACT_S)
    assert seen == [0, 4, 5]


def test_drop_newest_refuses_items_when_full():
    stage, gate, seen = _gate_stage("drop_newest", maxsize=2)
    stage.start()
    assert stage.put(0)
    _wait_until(lambda: stage.inbox.empty())
    assert [stage.put(i) for i in range(1, 5)] == [True, True, False, False]
    assert stage.dropped == 2
    gate.set()
    stage.close()
    stage.join_raise(REACT_S)
    assert seen == [0, 1, 2]


def test_close_does_not_drop_the_waiting_item():
    """Closing a drop-oldest stage (the live pose stage at the end of a file) still processes the item it holds."""
    stage, gate, seen = _gate_stage("drop_oldest", maxsize=1, results=4)
    stage.start()
    stage.put(0)
    _wait_until(lambda: stage.inbox.empty())
    stage.put(1)
    closer = Worker(stage.close, "test-closer")  # waits for room for the end mark
    closer.start()
    time.sleep(0.05)
    assert not stage.put(2)  # closed: refused, and the end mark is not replaced
    gate.set()
    assert list(stage.results()) == [0, 10]
    closer.join_raise(REACT_S)
    stage.join_raise(REACT_S)
    assert seen == [0, 1] and stage.dropped == 0


def test_error_is_reraised_on_the_caller_and_ends_results():
    def fn(item):
        if item == 3:
            raise ValueError("bad frame 3")
        return item

    stage = Stage(fn, "test-error", maxsize=1, results=1)
    stage.start()
    feeder = Worker(lambda: [stage.put(i) for i in range(10)], "test-feeder")
    feeder.start()
    assert list(stage.results()) == [0, 1, 2]  # the error ends the results
    feeder.join_raise(REACT_S)  # put() gave up on the ended stage instead of blocking
    with pytest.raises(ValueError, match="bad frame 3"):
        stage.join_raise(REACT_S)
    assert isinstance(stage.error, ValueError)
    assert not stage.put(11)  # an ended stage takes nothing


def test_worker_reraises_and_joins():
    w = Worker(lambda: 1 / 0, "test-worker")
    w.start()
    with pytest.raises(ZeroDivisionError):
        w.join_raise(REACT_S)
    assert w.ended and w.daemon and w.name == "test-worker"
    ok = Worker(lambda: None, "test-ok")
    ok.start()
    ok.join_raise(REACT_S)
    assert ok.ended and ok.error is None


def test_cancel_unblocks_a_blocked_producer():
    stage, gate, _ = _gate_stage("block", maxsize=1)
    stage.start()
    stage.put(0)
    _wait_until(lambda: stage.inbox.empty())
    stage.put(1)  # fills the queue
    result: list = []
    producer = Worker(lambda: result.append(stage.put(2)), "test-producer")
    producer.start()
    time.sleep(0.2)
    assert producer.is_alive()  # blocked: the queue is full
    stage.cancel()
    producer.join_raise(REACT_S)
    assert not producer.is_alive() and result == [False]
    gate.set()
    stage.join_raise(REACT_S)
    assert not stage.is_alive()


def test_cancel_unblocks_a_waiting_reader():
    stage = Stage(lambda x: x, "test-idle", maxsize=1, results=1)
    stage.start()
    got: list = []
    reader = Worker(lambda: got.extend(stage.results()), "test-reader")
    reader.start()
    time.sleep(0.2)
    assert reader.is_alive()  # waiting for a result
    t0 = time.monotonic()
    stage.cancel()
    reader.join_raise(REACT_S)
    stage.join_raise(REACT_S)
    assert not reader.is_alive() and not stage.is_alive() and got == []
    assert time.monotonic() - t0 < 2.0


def test_shared_stop_event_ends_a_stage():
    stop = threading.Event()
    stage = Stage(lambda x: x, "test-shared", maxsize=1, stop=stop)
    stage.start()
    stop.set()
    stage.join_raise(REACT_S)
    assert not stage.is_alive() and not stage.put(1)


def test_queue_put_get_give_up_when_stopped():
    """The pipeline's waits on a plain bounded queue: put gives up on a full queue, get returns END."""
    q: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    assert put(q, "a", stop)
    out: list = []
    producer = Worker(lambda: out.append(put(q, "b", stop)), "test-put")
    producer.start()
    time.sleep(0.2)
    assert producer.is_alive()
    stop.set()
    producer.join_raise(REACT_S)
    assert out == [False]
    assert get(q, stop) == "a"  # queued items still come first
    assert get(q, stop) is END


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="policy must be one of"):
        Stage(lambda x: x, "bad", maxsize=1, policy="newest_wins")
    with pytest.raises(ValueError, match="at least one item"):
        Stage(lambda x: x, "bad", maxsize=0)
    with pytest.raises(RuntimeError, match="keeps no results"):
        next(Stage(lambda x: x, "bad", maxsize=1).results())
