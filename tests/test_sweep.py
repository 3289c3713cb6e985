"""`mafia sweep`: fair seat rotation, identical results for any number of workers, and
nothing lost or duplicated when a sweep is killed and resumed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from helpers import REPO, interrupted_sweep

from mafia.config import make_rules
from mafia.engine import Engine
from mafia.events import RoleAssigned
from mafia.sweep import SweepPlan, derive_seed, finished

from mafia.agents.random_player import RandomPlayer
from mafia.agents.specs import ModelOptions


def sweep(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "mafia", "sweep", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("game-*.jsonl"))}


def test_rotation_balances_seats_and_roles() -> None:
    """Over whole blocks, every spec plays every seat and every dealt role equally often."""
    specs = ("a", "b", "c")
    rules = make_rules(players=7)
    plan = SweepPlan(specs, 5, rules, ModelOptions())
    seats: Counter[tuple[str, int]] = Counter()
    roles: Counter[tuple[str, str]] = Counter()
    games = 3 * 8
    for index in range(games):
        game = plan.game(index)
        assert game.seed == derive_seed(5, index // 3)
        events = []
        players = [RandomPlayer(game.seed, s) for s in range(7)]
        asyncio.run(Engine(rules, game.seed, players, sinks=[events.append]).run())
        dealt = {e.player: e.role for e in events if isinstance(e, RoleAssigned)}
        for seat, spec in enumerate(game.seat_specs):
            seats[(spec, seat)] += 1
            roles[(spec, dealt[events[0].players[seat]["name"]])] += 1
    assert set(seats.values()) == {games // 3}  # each spec in each seat 8 times
    for role in ("mafia", "doctor", "detective", "villager"):
        counts = {roles[(spec, role)] for spec in specs}
        assert len(counts) == 1, (role, [roles[(s, role)] for s in specs])


def test_same_seed_same_games_with_one_or_two_workers(tmp_path: Path) -> None:
    """The number of worker processes never changes a sweep's transcripts."""
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, workers in ((one, "1"), (two, "2")):
        proc = sweep("--agents", "random", "--games", "300", "--seed", "3", "--players", "6",
                     "--workers", workers, "--out", str(folder))
        assert proc.returncode == 0, proc.stderr
    a, b = files(one), files(two)
    assert len(a) == 300 and a == b


def test_sigterm_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """Kill a sweep mid-way with SIGTERM, run the same command again: exactly the games of an
    uninterrupted sweep, byte for byte, and no partial file counted."""
    games, folder, reference = 1500, tmp_path / "killed", tmp_path / "reference"
    args = ["--agents", "random", "--games", str(games), "--seed", "9", "--workers", "2"]
    interrupted_sweep(args, folder, after=100)
    complete = finished(folder, games)
    assert 100 <= len(complete) < games
    assert len(files(folder)) == len(complete)  # every .jsonl present is a whole game

    resumed = sweep(*args, "--out", str(folder))
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(complete)} already done" in resumed.stderr
    assert list(folder.glob("*.part")) == []
    assert sweep(*args, "--out", str(reference)).returncode == 0
    assert files(folder) == files(reference)


def test_manifest_guards_the_folder(tmp_path: Path) -> None:
    """A folder made by a different command is refused (one line) unless --force; more games
    extend a sweep; the manifest records the command, rules and seat scheme."""
    folder = tmp_path / "s"
    assert sweep("--agents", "random", "--games", "20", "--out", str(folder)).returncode == 0
    manifest = json.loads((folder / "sweep.json").read_text())
    assert manifest["fingerprint"]["agents"] == ["random"]
    assert manifest["fingerprint"]["rules"]["players"] == 7
    assert "rotation" in manifest["seat_scheme"]
    assert manifest["command"][:2] == ["mafia", "sweep"]

    other = sweep("--agents", "random", "--games", "20", "--seed", "4", "--out", str(folder))
    assert other.returncode == 2
    assert other.stderr.strip().splitlines() == [
        f"error: {folder} holds a sweep made with a different command (differs in: seed); "
        "use another --out, or --force to start it over"]

    more = sweep("--agents", "random", "--games", "30", "--out", str(folder))
    assert more.returncode == 0 and "20 already done" in more.stderr
    assert len(files(folder)) == 30

    forced = sweep("--agents", "random", "--games", "10", "--seed", "4", "--players", "5",
                   "--out", str(folder), "--force")
    assert forced.returncode == 0
    assert len(files(folder)) == 10


@pytest.mark.parametrize("args,named", [
    (["--agents", "nosuchmodel", "--games", "2"], "unknown player or model"),
    (["--agents", "random", "--games", "0"], "--games"),
    (["--agents", "random", "--games", "2", "--roles", "mafia=9"], "need 11 seats"),
])
def test_sweep_user_errors(tmp_path: Path, args: list[str], named: str) -> None:
    """Mistakes are one line on stderr and exit status 2."""
    proc = sweep(*args, "--out", str(tmp_path / "x"))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and named in proc.stderr


def test_a_sweep_made_before_a_rule_existed_still_resumes(tmp_path: Path) -> None:
    """A manifest written by an older version lacks rules added since; they were played at
    their defaults, so the same command resumes (and extends) it instead of refusing."""
    out = tmp_path / "old"
    args = ("--agents", "random", "--games", "6", "--seed", "2", "--out", str(out))
    assert sweep(*args).returncode == 0
    manifest = json.loads((out / "sweep.json").read_text())
    for newer in ("discussion", "discussion_turns", "day_seconds", "max_silence_seconds",
                  "words_per_second", "clock_decisions_per_day", "typing_events"):
        del manifest["fingerprint"]["rules"][newer]
    (out / "sweep.json").write_text(json.dumps(manifest))
    before = files(out)
    more = sweep(*args[:3], "8", *args[4:])
    assert more.returncode == 0, more.stderr
    after = files(out)
    assert {k: v for k, v in after.items() if k in before and k != "sweep.json"} == {
        k: v for k, v in before.items() if k != "sweep.json"}
    assert len([k for k in after if k.endswith(".jsonl")]) == 8
    # A rule that really differs is still refused.
    changed = sweep(*args[:-1], str(out), "--discussion", "clock")
    assert changed.returncode != 0 and "differs in: rules" in changed.stderr
