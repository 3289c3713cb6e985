"""Several games in flight per worker (`mafia sweep --in-flight K`), on the real model.

What reproduces, exactly: a game's transcript (timing fields aside) is a function of the
sweep's fingerprint (seed, rules, specs, model options, build, and K) and of the machine's
llama.cpp arithmetic (CPU kind, threads), as for one game at a time. Not of the machine's
speed: batches form at a barrier (every live game waiting on a model call), not from whatever
is ready, and no game moves while a batch runs; a slot takes the block's next game when its
own ends, and which game ends first is a function of the games. Blocks are fixed by the plan
(games [b*M, b*M+M), M = 4K), so a resumed sweep replays whole blocks and its games equal an
uninterrupted sweep's."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import time
from pathlib import Path

import pytest

from mafia.agents.backends import batched
from mafia.agents.specs import ModelOptions
from mafia.config import make_rules
from mafia.engine import run_in_slots
from mafia.sweep import SweepPlan, blocks, play_block
from mafia.transcript import comparable_lines

pytestmark = pytest.mark.model

RULES = make_rules(players=5, max_days=3)


def _plan(specs: tuple[str, ...], k: int) -> SweepPlan:
    return SweepPlan(specs, 7, RULES, ModelOptions(threads=2, reuse_models=True), in_flight=k)


def _games(folder: Path) -> dict[str, list[str]]:
    return {p.name: comparable_lines(p) for p in sorted(folder.glob("game-*.jsonl"))}


def test_blocks_are_fixed_by_the_plan():
    plan = _plan(("gemma3-270m",), 3)  # 3 slots, blocks of ROLLING * 3 = 12 games
    assert blocks(plan, list(range(30)), 30) == [tuple(range(0, 12)), tuple(range(12, 24)),
                                                 tuple(range(24, 30))]
    assert blocks(plan, [1, 13], 30) == [tuple(range(0, 12)), tuple(range(12, 24))]  # resumed
    assert plan.fingerprint()["in_flight_block"] == 12 and "in_flight" not in _plan(
        ("gemma3-270m",), 1).fingerprint()


def test_a_slot_takes_the_next_game_when_its_own_ends():
    """Slots never idle while games remain: game 2 goes to the slot whose game ended first,
    and each slot is told once that it has nothing left."""
    lengths = [5, 1, 2, 1]  # event-loop passes each game takes
    log: list[tuple[str, int, int]] = []

    class Game:
        def __init__(self, i: int) -> None:
            self.i = i

        async def run(self) -> int:
            for _ in range(lengths[self.i]):
                await asyncio.sleep(0)
            return self.i * 10

    def start(i: int, slot: int) -> Game:
        log.append(("start", i, slot))
        return Game(i)

    results = run_in_slots(4, 2, start, ended=lambda slot: log.append(("ended", -1, slot)))
    assert results == [0, 10, 20, 30]
    assert log == [("start", 0, 0), ("start", 1, 1), ("start", 2, 1), ("start", 3, 1),
                   ("ended", -1, 1), ("ended", -1, 0)]


def test_a_slow_machine_plays_the_same_games(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Three games in two slots (the third takes the slot of whichever ends first), next to
    random seats (which never wait on the model): run once as is, once with every batch
    delayed by a random 0-60 ms, as on a slower or busier machine; then resume a copy with
    one game missing. All three give the same games."""
    plan = _plan(("gemma3-270m", "random"), 2)
    fast, slow = tmp_path / "fast", tmp_path / "slow"
    fast.mkdir(), slow.mkdir()
    made: list[batched.MultiSeqContext] = []

    class Recorded(batched.MultiSeqContext):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(batched, "MultiSeqContext", Recorded)
    outcomes = play_block(plan, (0, 1, 2), str(fast))
    monkeypatch.undo()
    assert [o.index for o in outcomes] == [0, 1, 2]
    # the block's context is freed when it returns, before a next block allocates its own
    # (not left to the cycle collector: that doubled a worker's memory)
    assert made and all(not c._finalizer.alive for c in made)
    with pytest.raises(RuntimeError, match="closed"):
        made[0].run([])
    # each outcome carries its worker's peak memory so far (the sweep prints it per worker)
    assert all(o.worker == os.getpid() and 100 < (o.peak_pss_mib or 0) < 4096 for o in outcomes)

    run = batched.BatchedModel._run
    jitter = random.Random(0)

    def slow_run(self, jobs):  # type: ignore[no-untyped-def]
        time.sleep(jitter.uniform(0, 0.06))
        return run(self, jobs)

    monkeypatch.setattr(batched.BatchedModel, "_run", slow_run)
    play_block(plan, (0, 1, 2), str(slow))
    monkeypatch.undo()
    assert _games(fast) == _games(slow)

    resumed = tmp_path / "resumed"
    shutil.copytree(fast, resumed)
    (resumed / "game-000002.jsonl").unlink()
    written = play_block(plan, (0, 1, 2), str(resumed), skip=(0, 1))
    assert [o.index for o in written] == [2]  # games 0 and 1 were played again, not written
    assert _games(resumed) == _games(fast)


@pytest.mark.parametrize(("extra", "says"), [
    (["--executor", "ray"], "--in-flight works with the local executor only"),
    (["--backend", "simple"], "--in-flight needs local models on the batched backend"),
])
def test_in_flight_mistakes_are_one_line(tmp_path: Path, extra: list[str], says: str):
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "mafia", "sweep", "--agents", "gemma3-270m",
                          "--games", "2", "--in-flight", "2", "--out", str(tmp_path / "s"),
                          *extra], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and says in run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


def test_a_model_sweep_reports_each_workers_peak_memory(tmp_path: Path):
    import subprocess
    import sys

    out = tmp_path / "s"
    run = subprocess.run([sys.executable, "-m", "mafia", "sweep", "--agents", "gemma3-270m",
                          "--games", "2", "--in-flight", "2", "--players", "5", "--threads",
                          "2", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    line = next(x for x in run.stderr.splitlines() if x.startswith("peak memory (PSS)"))
    peaks = json.loads((out / "sweep.json").read_text())["runtime"]["peak_pss_mib"]
    printed = float(line.split(":")[1].replace("MiB", "").replace(",", ""))
    assert len(peaks) == 1 and 100 < peaks[0] < 4096 and abs(printed - peaks[0]) <= 1


def test_an_in_flight_sweep_reports_each_game_as_it_is_saved(tmp_path: Path):
    """A block holds 4K games, so waiting for it would leave the progress bar still for
    minutes: each game is counted when its file appears, and the block's own outcomes (which
    carry the worker's memory stamp) come back marked as already counted."""
    from mafia.cli.sweep import _play

    plan = _plan(("gemma3-270m", "random"), 2)
    yields = list(_play(plan, [0, 1, 2, 3], tmp_path, workers=1, games=4))
    counted = [o.index for batch in yields for o in batch if not o.reported]
    assert sorted(counted) == [0, 1, 2, 3]  # each game counted once
    *early, last = yields
    assert len(early[0]) < 4  # the first games were counted before the block ended
    assert sorted(o.index for o in last) == [0, 1, 2, 3] and all(o.reported for o in last)
    assert all(o.worker is not None and o.worker != os.getpid() for o in last)
