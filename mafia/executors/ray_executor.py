"""The Ray executor: a sweep's games played by actors on a Ray cluster, written by the driver.

One actor (GameSlot) per game slot, sized by the CPUs a game needs: `threads` for model games
(by default every core of the smallest node), 1 for baseline and program players, many per
node. An actor builds each game's players from the plan (plain data) with reuse_models, so it
loads every model once, from the path on its own node, after checking the file's sha256
against the one the driver resolved. It sends each game's transcript back as bytes, and the
driver writes it with the local executor's `.part` + rename: the folder, its manifest, resume
and `mafia report` are those of any sweep, and no node needs the driver's file system.

Faults. A worker or node that dies takes its games in flight with it; they are played again on
a fresh actor (at most MAX_ATTEMPTS times each). A game that raises is a bug, not a fault: it
is reported with its index and seed, never retried forever, and the sweep goes on without it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mafia.errors import MafiaError
from mafia.executors.chaos import Chaos
from mafia.sweep import (
    GameOutcome, SweepPlan, play_in_memory, record_runtime, runtime, save_game,
)

from mafia.agents.specs import is_model_spec

IN_FLIGHT = 2  # tasks queued per actor, so the next game is there when one ends
MAX_ATTEMPTS = 3  # a game whose worker died this often is given up (it may be what kills it)
MAX_CHUNK = 50  # baseline games per task: one Ray call each would cost more than the game
CONNECT_TIMEOUT_S = 10.0
LOST_WAIT_S = 10.0  # how long a dead worker's finished results may take to show


def require_ray() -> None:
    if importlib.util.find_spec("ray") is None:
        raise MafiaError("--executor ray needs Ray: install mafia[ray] (pip install 'mafia[ray]')")


def _import_ray(address: str) -> Any:
    require_ray()
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # read when Ray starts a local instance
    if "ray" not in sys.modules:  # these are read once, when Ray is imported
        if address == "local" or _loopback(address):
            # Single-node mode: every Ray process listens on 127.0.0.1 only, and a loopback
            # address stays one (Ray otherwise binds all interfaces and rewrites 127.0.0.1
            # as the machine's own address, where a loopback cluster is not found).
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        if address == "local":
            # Token auth is Ray's default for a new local instance; said explicitly, Ray
            # does not print a warning line about it.
            os.environ.setdefault("RAY_AUTH_MODE", "token")
    import ray

    return ray


def check_models(expected: dict[str, str]) -> None:
    """Every model spec resolves on this node to a file with the driver's sha256."""
    from mafia.agents.registry import resolve

    host = socket.gethostname()
    for spec, sha256 in expected.items():
        try:
            model = resolve(spec)
        except MafiaError as exc:
            raise MafiaError(f"Ray node {host}: {exc}") from None
        if model.sha256 != sha256:
            raise MafiaError(f"Ray node {host}: model {spec} ({model.path}) has sha256 "
                             f"{model.sha256}, the driver's has {sha256}; every node needs "
                             "the same model file at the same path")


class GameSlot:
    """One actor: plays the games it is sent, one at a time, in its own worker process."""

    def __init__(self, plan: SweepPlan, chaos: Chaos) -> None:
        self.plan = plan
        self.chaos = chaos

    def ready(self, models: dict[str, str]) -> tuple[int, str]:
        """Check this node's model files (spec -> driver's sha256); this worker's pid, host."""
        check_models(models)
        return os.getpid(), socket.gethostname()

    def play(self, indices: tuple[int, ...],
             attempt: int) -> list[tuple[int, GameOutcome, bytes]]:
        played = []
        for index in indices:
            sinks = [self.chaos.sink(index, attempt)] if self.chaos else []
            outcome, data = play_in_memory(self.plan, self.plan.game(index), sinks)
            played.append((index, outcome, data))
        return played


@dataclass(frozen=True)
class FailedGame:
    index: int
    seed: int
    error: str


@dataclass
class _Task:
    indices: tuple[int, ...]
    attempt: int = 0


@dataclass
class Slot:
    actor: Any
    pid: int = 0  # known once ready (tests kill workers by pid)
    host: str = ""
    ready: bool = False
    tasks: dict[Any, _Task] = field(default_factory=dict)  # ObjectRef -> task in flight


class RaySweep:
    """Plays `todo` (game indices of `plan`) on Ray and writes them into `folder`.

    Iterate `run()` for the outcomes of each finished task, as the local executor yields them;
    afterwards `failed` lists the games that raised, `replayed` counts games played again
    because their worker died."""

    def __init__(self, plan: SweepPlan, todo: list[int], folder: Path, *,
                 address: str | None = None, workers: int | None = None,
                 chaos: Chaos = Chaos(), chunk: int | None = None,
                 note: Callable[[str], None] = lambda text: None) -> None:
        self.plan = plan
        self.todo = list(todo)
        self.folder = folder
        self.address = address
        self.workers = workers
        self.chaos = chaos
        self.chunk = chunk
        self.note = note
        self.slots: list[Slot] = []
        self.failed: list[FailedGame] = []
        self.replayed = 0
        self.written: set[int] = set()
        self.duplicates = 0  # results for a game already written (discarded; expected 0)
        self.first_game_s: float | None = None  # from run() to the first written game
        # The driver's loop (set when it starts).
        self._queue: deque[_Task] = deque()
        self._starting: dict[Any, Slot] = {}  # ObjectRef of ready() -> its actor's slot
        self._owner: dict[Any, Slot] = {}  # ObjectRef of play() -> the slot playing it
        self._losses = 0  # actors lost since a task last finished
        self._max_losses = 0
        self._hashes: dict[str, str] = {}
        self._remote: Any = None
        self._plan_ref: Any = None

    def run(self) -> Iterator[list[GameOutcome]]:
        if not self.todo:
            return  # nothing to play: no cluster to start
        begun = time.perf_counter()
        ray = _import_ray(self._address())
        started = self._connect(ray)
        try:
            yield from self._drive(ray, begun)
        finally:
            for slot in self.slots:
                try:
                    ray.kill(slot.actor, no_restart=True)
                except Exception:  # already gone (dead node, or Ray shutting down)
                    pass
            self.slots.clear()
            if started:
                ray.shutdown()

    # ---- setting up -------------------------------------------------------------------------

    def _connect(self, ray: Any) -> bool:
        """Join the Ray instance this process already has, or the one named by --ray-address
        or RAY_ADDRESS, or start a local one (never an unrelated running cluster)."""
        if ray.is_initialized():
            return False
        address = self._address()
        kwargs: dict[str, Any] = {"address": address, "log_to_driver": False,
                                  "logging_level": logging.WARNING}
        if address == "local":  # this machine only, over loopback, no dashboard
            kwargs.update(include_dashboard=False, _node_ip_address="127.0.0.1")
        else:
            _check_reachable(address)
        main = threading.current_thread() is threading.main_thread()
        handler = signal.getsignal(signal.SIGTERM) if main else None
        try:
            ray.init(**kwargs)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise MafiaError(f"cannot start or reach Ray at {address}: {exc}") from None
        finally:
            if main:  # Ray's driver replaces SIGTERM's handler; the sweep's resume needs ours
                signal.signal(signal.SIGTERM, handler)
        return True

    def _address(self) -> str:
        return self.address or os.environ.get("RAY_ADDRESS") or "local"

    def _size(self, ray: Any) -> tuple[SweepPlan, int, int]:
        """The plan the actors play (threads filled in), CPUs per game, number of slots."""
        cpus = [float(n.get("Resources", {}).get("CPU", 0)) for n in ray.nodes() if n.get("Alive")]
        cpus = [c for c in cpus if c >= 1]
        if not cpus:
            raise MafiaError("the Ray cluster has no node with a CPU to play on")
        plan, options = self.plan, self.plan.options
        if any(is_model_spec(s) for s in plan.specs) and options.endpoint is None:
            threads = options.threads or int(min(cpus))
            per_game = threads
            plan = replace(plan, options=replace(options, threads=threads))
        else:
            per_game = 1
        slots = sum(int(c // per_game) for c in cpus)
        if slots == 0:
            raise MafiaError(f"--threads {per_game}: no Ray node has {per_game} CPUs "
                             f"(the largest has {max(cpus):.0f})")
        slots = min(slots, self.workers or slots, len(self.todo))
        self.note(f"ray: {slots} game slot{'s' * (slots != 1)} of {per_game} CPU"
                  f"{'s' * (per_game != 1)} on {len(cpus)} node{'s' * (len(cpus) != 1)}")
        return plan, per_game, slots

    def _model_hashes(self) -> dict[str, str]:
        if self.plan.options.endpoint is not None:
            return {}
        from mafia.agents.registry import resolve

        return {s: resolve(s).sha256 for s in self.plan.specs if is_model_spec(s)}

    def _tasks(self, slots: int, models: bool) -> deque[_Task]:
        size = self.chunk or (1 if models else
                              max(1, min(MAX_CHUNK, len(self.todo) // (slots * 8) or 1)))
        return deque(_Task(tuple(self.todo[i:i + size]))
                     for i in range(0, len(self.todo), size))

    # ---- the loop ---------------------------------------------------------------------------

    def _drive(self, ray: Any, begun: float) -> Iterator[list[GameOutcome]]:
        from ray.exceptions import RayTaskError

        dead = _dead_errors()
        plan, per_game, n_slots = self._size(ray)
        record_runtime(self.folder, runtime("ray", plan))
        self._queue = self._tasks(n_slots, any(is_model_spec(s) for s in plan.specs))
        self._hashes = self._model_hashes()
        self._remote = ray.remote(GameSlot).options(num_cpus=per_game, max_restarts=0,
                                                    max_task_retries=0)
        self._plan_ref = ray.put(plan)
        self._max_losses = 2 * n_slots + 2
        for _ in range(n_slots):
            self._start()
        while self._queue or self._owner:
            self._submit()
            [ref], _ = ray.wait([*self._owner, *self._starting], num_returns=1)
            if ref in self._starting:
                slot = self._starting.pop(ref)
                try:
                    slot.pid, slot.host = ray.get(ref)
                    slot.ready = True
                except dead as exc:
                    if getattr(exc, "actor_init_failed", False):  # e.g. no mafia on a node
                        raise MafiaError(f"a Ray actor could not start: {_last_line(exc)}"
                                         ) from None
                    self._lost(ray, slot)
                except RayTaskError as exc:
                    raise _user_error(exc) from None
                continue
            slot = self._owner.pop(ref)
            try:
                played = ray.get(ref)
            except dead:
                self._lost(ray, slot)
                continue
            except RayTaskError as exc:
                self._raised(slot.tasks.pop(ref), exc)
                continue
            slot.tasks.pop(ref)
            self._losses = 0
            outcomes = self._write(plan, played)
            if self.first_game_s is None:
                self.first_game_s = time.perf_counter() - begun
            yield outcomes

    def _submit(self) -> None:
        """Keep IN_FLIGHT tasks queued on every ready actor."""
        for slot in self.slots:
            while slot.ready and self._queue and len(slot.tasks) < IN_FLIGHT:
                task = self._queue.popleft()
                ref = slot.actor.play.remote(task.indices, task.attempt)
                slot.tasks[ref] = task
                self._owner[ref] = slot

    def _start(self) -> None:
        slot = Slot(self._remote.remote(self._plan_ref, self.chaos))
        self.slots.append(slot)
        self._starting[slot.actor.ready.remote(self._hashes)] = slot

    def _lost(self, ray: Any, slot: Slot) -> None:
        """A dead worker: its games in flight go back to the queue, a fresh actor starts.

        An actor runs its tasks in the order sent, so the oldest unfinished one was the one
        playing: that was an attempt of its games; the tasks queued behind it never started.
        Tasks it finished stay with the loop: a finished game's result can become visible
        after the error of the task that killed the worker (it is larger, and fetched)."""
        self._losses += 1
        if self._losses > self._max_losses:
            raise MafiaError(f"Ray workers keep dying ({self._losses} lost without a game "
                             "finishing); see the Ray logs (/tmp/ray/session_latest/logs on "
                             "each node)")
        finished = self._finished(ray, list(slot.tasks))
        unfinished = [(ref, task) for ref, task in slot.tasks.items() if ref not in finished]
        for ref, _ in unfinished:
            self._owner.pop(ref, None)
            del slot.tasks[ref]
        if unfinished:
            (_, playing), *waiting = unfinished
            self._queue.extendleft(reversed([task for _, task in waiting]))
            self._retry(playing)
        self.slots.remove(slot)
        try:
            ray.kill(slot.actor, no_restart=True)
        except Exception:  # gone already, with its node: nothing left to stop
            pass
        self._start()

    @staticmethod
    def _finished(ray: Any, refs: list[Any]) -> set[Any]:
        """Those of a dead worker's task results that hold a game's outcome (played, or
        raised by the game itself), not the worker's death."""
        if not refs:
            return set()
        from ray.exceptions import GetTimeoutError, RayTaskError

        dead = _dead_errors()
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=LOST_WAIT_S, fetch_local=False)
        out = set()
        for ref in ready:
            try:
                ray.get(ref, timeout=LOST_WAIT_S)
            except (*dead, GetTimeoutError):
                continue
            except RayTaskError:  # the game's own error: the loop reports it
                pass
            out.add(ref)
        return out

    def _write(self, plan: SweepPlan,
               played: list[tuple[int, GameOutcome, bytes]]) -> list[GameOutcome]:
        outcomes = []
        for index, outcome, data in played:
            if index in self.written:
                self.duplicates += 1
                continue
            save_game(self.folder, plan.game(index), data)
            self.written.add(index)
            outcomes.append(outcome)
        return outcomes

    def _retry(self, task: _Task) -> None:
        """Play a lost task's games again, one by one (if one of them is what kills its
        worker, only that one runs out of attempts)."""
        if task.attempt + 1 >= MAX_ATTEMPTS:
            for index in task.indices:
                self._fail(index, f"its Ray worker died {MAX_ATTEMPTS} times")
            return
        self.replayed += len(task.indices)
        self._queue.extendleft(_Task((i,), task.attempt + 1) for i in reversed(task.indices))

    def _raised(self, task: _Task, exc: Exception) -> None:
        cause = getattr(exc, "cause", None) or exc
        if isinstance(cause, MafiaError):
            raise MafiaError(str(cause)) from None  # a user's mistake: the sweep stops, as locally
        if len(task.indices) > 1:  # which game raised? play them one by one
            self._queue.extendleft(_Task((i,), task.attempt) for i in reversed(task.indices))
            return
        self._fail(task.indices[0], f"{type(cause).__name__}: {cause}")

    def _fail(self, index: int, error: str) -> None:
        self.failed.append(FailedGame(index, self.plan.game(index).seed, error))


def _user_error(exc: Exception) -> MafiaError:
    cause = getattr(exc, "cause", None) or exc
    if isinstance(cause, MafiaError):
        return MafiaError(str(cause))
    return MafiaError(f"a Ray actor could not start: {_last_line(exc)}")


def _host_port(address: str) -> tuple[str, int] | None:
    host, sep, port = address.split("://", 1)[-1].rpartition(":")
    return (host.strip("[]"), int(port)) if sep and port.isdigit() else None


def _loopback(address: str) -> bool:
    hp = _host_port(address)
    return hp is not None and (hp[0] in ("localhost", "::1") or hp[0].startswith("127."))


def _check_reachable(address: str) -> None:
    """A HOST:PORT (or ray://HOST:PORT) that refuses connections is one error line now:
    ray.init would keep retrying it for many minutes, deaf to Ctrl-C."""
    hp = _host_port(address)
    if hp is None:
        return  # "auto" and the like: Ray finds the cluster itself
    try:
        socket.create_connection(hp, timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise MafiaError(f"cannot reach Ray at {address}: {exc.strerror or exc} (start it "
                         "with `ray start --head`, or check --ray-address / RAY_ADDRESS)"
                         ) from None


def _last_line(exc: BaseException) -> str:
    """The last line of a Ray error (after its remote traceback: the exception itself)."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(exc).__name__


def _dead_errors() -> tuple[type[BaseException], ...]:
    """What Ray raises for a result lost with its worker or node (ActorDiedError and
    ActorUnavailableError are RayActorErrors)."""
    import ray.exceptions as rx

    return (rx.RayActorError, rx.WorkerCrashedError, rx.NodeDiedError, rx.ObjectLostError)
