"""The guided lane in a second process: the same turns as ``metarlm.synth.lanes``, on two cores.

Taking turns in one process, the guided and the unguided search share one core, so where the
policy does not pay for itself a guided run takes about twice the unguided one. A lane's steps
depend on nothing the other lane does (each has its own budget account and solver scope), so
both can run ahead. The turns start in one process; once each lane has searched
``SPLIT_AFTER`` seconds the search forks (``Split``): the child goes on with the guided lane
from where it is and reports every step as it finishes it (what it found, what it has spent),
and this process goes on with the unguided lane, stepping on whenever the child's next step
has not come yet. ``in_turns`` replays the turns over the steps as recorded, in order. The
turns, the programs and the counts are those of one process; only the wall clock changes: a
result waits for the slower lane to reach the point where the turns end, not for both lanes
one after the other. Short searches, and those where one lane does nearly all the work, never
fork (the fork and the pages it copies cost more than they save there); where there is no
``fork`` or only one core, the lanes take turns in one process.

Steps travel as JSON (programs as ``dsl.program_data``), never as pickles. The child is
killed when the turns end: what either lane did past that point is never read.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import traceback
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, Pipe
from typing import Any

from metarlm.errors import MetarlmError
from metarlm.exec.pack import serial_only
from metarlm.lang.dsl import Program, Rule, program_data, program_from_data
from metarlm.synth.core import Search
from metarlm.synth.lanes import Lane
from metarlm.types import Budget

GRACE = 5.0  # seconds past the time limit that a step of the child is waited for
# Seconds each lane has searched before the two go to two processes. A fork costs its
# processes a few tens of ms in pages copied as they first write to them, and pays only as
# much as the lesser lane still has to do: lanes that have each worked this long are taken to
# have about as much again ahead.
SPLIT_AFTER = 0.15


def available() -> bool:
    """Whether a second process can have a core of its own: Linux's ``fork`` and two cores
    (elsewhere a fork without an exec is not safe with every library loaded here)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity call (macOS)
        cores = os.cpu_count() or 1
    return cores >= 2


def event(lane: Lane, program: Program | None) -> dict[str, Any]:
    """One step as recorded: the program found (if any) with its rules' origins, the lane's
    counts so far and whether it has ended."""
    learned: tuple[Rule, ...] = ()
    if program is not None and lane.search is not None:
        learned = program.rules[len(lane.search.ctx.background):]
    named = lane.origins(learned) if learned else {}
    return {"program": None if program is None else program_data(program),
            "origins": [named[r] for r in learned],  # of the program's last rules, in order
            "candidates": lane.candidates, "model_calls": lane.model_calls,
            "z3_calls": lane.z3_calls, "seconds": lane.seconds, "unchecked": lane.unchecked,
            "started": lane.started, "stopped": lane.stopped, "ended": lane.ended}


class Replayed(Lane):
    """A lane whose steps were recorded elsewhere (``event``): each ``step`` takes the next
    and counts it as ``Lane.step`` would have."""

    def __post_init__(self) -> None:
        self._unchecked, self._started, self._stopped = 0, False, None
        self._origins: dict[tuple[Rule, ...], dict[Rule, str]] = {}

    @property
    def unchecked(self) -> int:
        return self._unchecked

    @property
    def started(self) -> bool:
        return self._started

    @property
    def stopped(self) -> str | None:
        return self._stopped

    def origins(self, learned: tuple[Rule, ...]) -> dict[Rule, str]:
        return self._origins.get(tuple(learned), {})

    def next_event(self, budget: Budget) -> dict[str, Any] | None:
        """The lane's next recorded step (None: none will come before the time limit)."""
        raise NotImplementedError

    def step(self, budget: Budget) -> Program | None:
        found = self.next_event(budget)
        if found is None:
            self.ended = True  # past the time limit: the turns are over anyway
            return None
        self.settle(budget, found["candidates"], found["model_calls"], found["z3_calls"])
        self.seconds, self.ended = found["seconds"], found["ended"]
        self._unchecked, self._started = found["unchecked"], found["started"]
        self._stopped = found["stopped"]
        if found["program"] is None:
            return None
        program = program_from_data(found["program"])
        names = found["origins"]
        learned = program.rules[len(program.rules) - len(names):]
        self._origins[learned] = dict(zip(learned, names))
        return program


class AheadLane(Replayed):
    """A lane searched here, whose steps may be taken before the turns reach them
    (``ahead``), while the other lane's next step is awaited."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.inner = Lane(self.name, self.make)
        self.recorded: deque[dict[str, Any]] = deque()
        self._scratch: Budget | None = None  # what the inner lane adds its counts to

    @classmethod
    def around(cls, lane: Lane) -> AheadLane:
        """The lane, from the step it has reached, as one that may step ahead."""
        ahead = cls(lane.name, lane.make, head_start=lane.head_start)
        ahead.inner = lane
        _take_counts(ahead, lane)
        return ahead

    def ahead(self, budget: Budget) -> bool:
        """Take one more step of the search, to be replayed later; False once it has ended
        or the time is up."""
        if self.inner.ended or budget.exhausted():
            return False
        if self._scratch is None:
            self._scratch = budget.account()
        program = self.inner.step(self._scratch)
        self.recorded.append(event(self.inner, program))
        return True

    def next_event(self, budget: Budget) -> dict[str, Any] | None:
        if not self.recorded and not self.ahead(budget):
            return None
        return self.recorded.popleft()


class RemoteLane(Replayed):
    """A lane whose search runs in a forked child; each ``step`` reads the child's next,
    and while it has not come, ``meanwhile`` (the other lane's ``ahead``) runs."""

    pid: int = 0
    conn: Connection | None = None
    meanwhile: Callable[[Budget], bool] | None = None

    @classmethod
    def start(cls, name: str, make: Callable[[Budget], Search | None], budget: Budget,
              head_start: int = 0) -> RemoteLane:
        """A new lane whose search runs in a child from its first step on."""
        return cls.fork(Lane(name, make, head_start=head_start), budget)

    @classmethod
    def fork(cls, lane: Lane, budget: Budget) -> RemoteLane:
        """Fork a child that goes on with the lane from the step it has reached."""
        ours, theirs = Pipe()
        # Objects the collector never walks stay on pages the two processes share: a
        # collection in either would write to every object and copy every page.
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            code = 0
            try:
                ours.close()
                serial_only()  # Numba's workers stayed in the parent; its lock is shared
                if lane.search is not None:
                    lane.search.observer = None  # a live status is this process's to show
                _serve(lane, budget, theirs)
            except BaseException:  # noqa: BLE001 (told to the parent where it can be)
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        remote = cls(lane.name, lane.make, head_start=lane.head_start)
        _take_counts(remote, lane)
        remote.pid, remote.conn = pid, ours
        return remote

    def next_event(self, budget: Budget) -> dict[str, Any] | None:
        assert self.conn is not None
        while not self.conn.poll(0):
            if self.meanwhile is None or not self.meanwhile(budget):
                if not self.conn.poll(budget.remaining() + GRACE):
                    return None
                break
        try:
            found = json.loads(self.conn.recv_bytes())
        except (EOFError, OSError):
            raise MetarlmError(f"the {self.name} search's process ended unexpectedly") from None
        if "error" in found:
            if found.get("kind") == "MetarlmError":
                raise MetarlmError(found["error"])
            raise RuntimeError(f"the {self.name} search failed:\n{found['error']}")
        return found

    def close(self) -> None:
        """End the child (what it does past the turns is never read) and reap it."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = 0
        if self.conn is not None:
            self.conn.close()
            self.conn = None
            gc.unfreeze()


def _take_counts(replayed: Replayed, lane: Lane) -> None:
    """Start a replayed lane where ``lane`` is."""
    replayed.candidates, replayed.model_calls = lane.candidates, lane.model_calls
    replayed.z3_calls, replayed.seconds, replayed.ended = lane.z3_calls, lane.seconds, lane.ended
    replayed._unchecked, replayed._started = lane.unchecked, lane.started
    replayed._stopped = lane.stopped


class Split:
    """Between the turns of two lanes (unguided first, guided second), the moment to put the
    guided lane in a child: once each lane has searched ``after`` seconds, the guided lane
    has started and neither has ended."""

    def __init__(self, after: float | None = None) -> None:
        self.after = SPLIT_AFTER if after is None else after
        self.remote: RemoteLane | None = None

    def __call__(self, lanes: list[Lane], budget: Budget) -> None:
        if self.remote is not None or len(lanes) != 2:
            return
        unguided, guided = lanes
        if unguided.ended or guided.ended or not guided.started \
                or min(unguided.seconds, guided.seconds) < self.after:
            return
        self.remote = RemoteLane.fork(guided, budget)
        ahead = AheadLane.around(unguided)
        self.remote.meanwhile = ahead.ahead
        lanes[:] = [ahead, self.remote]

    def close(self) -> None:
        """End the child, if there is one."""
        if self.remote is not None:
            self.remote.close()


def _serve(lane: Lane, budget: Budget, conn: Connection) -> None:
    """The child: run the lane step by step, telling the parent each step, until the lane
    ends or the parent is done (it closes its end or kills the child)."""
    try:
        while not conn.poll():
            program = lane.step(budget)
            conn.send_bytes(json.dumps(event(lane, program)).encode())
            if lane.ended:
                return
    except (BrokenPipeError, EOFError):
        return
    except MetarlmError as err:
        conn.send_bytes(json.dumps({"error": str(err), "kind": "MetarlmError"}).encode())
    except Exception:  # noqa: BLE001
        conn.send_bytes(json.dumps({"error": traceback.format_exc()}).encode())
