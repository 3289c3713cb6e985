"""The Ray executor (`mafia sweep --executor ray`): the same games as the local executor, byte
for byte; every game exactly once when workers are killed mid-game; a game that raises is
reported, not retried forever; the driver resumes like any sweep.

One local Ray instance (2 CPUs, loopback only, no dashboard, no usage stats) serves the whole
module; the CLI tests start their own, as a user's sweep would."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, interrupted_sweep

# Read when Ray is imported, and passed on to every Ray process: no usage stats, every
# listener on 127.0.0.1 (single-node mode), token auth (Ray's default, said: no warning).
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_AUTH_MODE", "token")
ray = pytest.importorskip("ray")

from mafia.config import make_rules  # noqa: E402
from mafia.errors import MafiaError  # noqa: E402
from mafia.executors.chaos import Chaos, ChaosError  # noqa: E402
from mafia.executors.ray_executor import MAX_ATTEMPTS, RaySweep  # noqa: E402
from mafia.sweep import (  # noqa: E402
    MANIFEST, SweepPlan, finished, play_chunk, play_in_memory, prepare_folder, runtime,
)
from mafia.transcript import comparable_lines  # noqa: E402

from mafia.agents.specs import ModelOptions  # noqa: E402

GAMES = 60
PLAN = SweepPlan(("random",), 7, make_rules(players=7), ModelOptions(reuse_models=True))
COMMAND = ["mafia", "sweep", "--agents", "random", "--games", str(GAMES)]


@pytest.fixture(scope="module")
def local_ray():  # type: ignore[no-untyped-def]
    ray.init(address="local", num_cpus=2, include_dashboard=False,
             _node_ip_address="127.0.0.1", log_to_driver=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sweep as the local executor writes it (one worker: the number never matters)."""
    folder = tmp_path_factory.mktemp("local")
    prepare_folder(folder, PLAN, COMMAND, GAMES, False, runtime("local", PLAN))
    play_chunk(PLAN, range(GAMES), str(folder))
    return folder


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("game-*"))}


def ray_sweep(folder: Path, **kwargs: object) -> RaySweep:
    prepare_folder(folder, PLAN, COMMAND, GAMES, False, runtime("ray", PLAN))
    return RaySweep(PLAN, list(range(GAMES)), folder, **kwargs)  # type: ignore[arg-type]


def manifest(folder: Path) -> dict[str, object]:
    data = json.loads((folder / MANIFEST).read_text())
    data["runtime"].pop("executor")
    return data


def test_ray_sweep_equals_the_local_sweep(local_ray, reference: Path, tmp_path: Path) -> None:
    """Same plan, same folder: transcripts byte-identical, manifests equal but the executor."""
    sweep = ray_sweep(tmp_path)
    outcomes = [o for batch in sweep.run() for o in batch]
    assert sorted(o.index for o in outcomes) == list(range(GAMES))
    assert files(tmp_path) == files(reference)
    assert manifest(tmp_path) == manifest(reference)
    assert json.loads((tmp_path / MANIFEST).read_text())["runtime"]["executor"] == "ray"
    assert sweep.failed == [] and sweep.replayed == 0 and sweep.duplicates == 0
    assert len(sweep.slots) == 0  # actors are released at the end


def _kill_by_pid(sweep: RaySweep) -> None:
    slot = next(s for s in sweep.slots if s.ready and s.tasks)
    os.kill(slot.pid, signal.SIGKILL)


def _kill_by_ray(sweep: RaySweep) -> None:
    slot = next(s for s in sweep.slots if s.ready and s.tasks)
    ray.kill(slot.actor)


@pytest.mark.parametrize("fault", ["sigkill", "ray.kill", "os._exit"])
def test_a_worker_lost_mid_game_changes_nothing(local_ray, reference: Path, tmp_path: Path,
                                               fault: str) -> None:
    """A worker killed (SIGKILL, ray.kill) or exiting (os._exit) in the middle of a game: its
    games are played again on a fresh actor; N games, none twice, none half-written, and the
    folder is byte for byte the uninterrupted sweep's."""
    slow = Chaos(slow_s=0.05, exit_at=frozenset({17}) if fault == "os._exit" else frozenset())
    sweep = ray_sweep(tmp_path, chaos=slow, chunk=2)
    indices: list[int] = []
    for batch in sweep.run():
        if not indices and fault == "sigkill":
            _kill_by_pid(sweep)
        elif not indices and fault == "ray.kill":
            _kill_by_ray(sweep)
        indices += [o.index for o in batch]
    written = files(tmp_path)
    counts = {"expected": GAMES, "written": len(written), "duplicated": sweep.duplicates
              + len(indices) - len(set(indices)), "replayed": sweep.replayed}
    print(f"\n{fault}: {counts}")
    assert counts["written"] == GAMES and counts["duplicated"] == 0
    assert sweep.replayed >= 1  # the lost game itself, at least
    assert not list(tmp_path.glob("*.part"))
    assert len(finished(tmp_path, GAMES)) == GAMES
    assert written == files(reference)
    assert sweep.failed == []


def test_a_game_that_raises_is_reported_not_retried(local_ray, reference: Path,
                                                    tmp_path: Path) -> None:
    """A game raising inside the engine fails alone, with its index and seed; the sweep
    finishes every other game."""
    sweep = ray_sweep(tmp_path, chaos=Chaos(raise_at=frozenset({5})), chunk=4)
    outcomes = [o for batch in sweep.run() for o in batch]
    assert [(f.index, f.seed) for f in sweep.failed] == [(5, PLAN.game(5).seed)]
    assert sweep.failed[0].error == "ChaosError: chaos: game 5 raised on purpose"
    assert sorted(o.index for o in outcomes) == [i for i in range(GAMES) if i != 5]
    expected = files(reference)
    del expected["game-000005.jsonl"]
    assert files(tmp_path) == expected


def test_a_game_that_kills_every_worker_is_given_up(local_ray, reference: Path,
                                                    tmp_path: Path) -> None:
    """A game whose worker dies on every attempt is played MAX_ATTEMPTS times, then reported;
    the other games are all there.

    The games are slowed (as real games are: seconds, not milliseconds) so that the game a
    worker finished just before crashing has sent its result. A random-agent game crashing a
    millisecond after its predecessor's reply can lose that reply, and the executor then rightly
    plays the predecessor again; once under CI load that made 4 replays, not 2."""
    prepare_folder(tmp_path, PLAN, COMMAND, GAMES, False)
    sweep = RaySweep(PLAN, list(range(10)), tmp_path,
                     chaos=Chaos(slow_s=0.3, crash_at=frozenset({3})), chunk=1)
    outcomes = [o for batch in sweep.run() for o in batch]
    assert [(f.index, f.seed, f.error) for f in sweep.failed] == [
        (3, PLAN.game(3).seed, f"its Ray worker died {MAX_ATTEMPTS} times")]
    # The games queued behind it never started, so they are not replays; a lost reply (see
    # above) may still add one replay per crash.
    assert MAX_ATTEMPTS - 1 <= sweep.replayed <= 2 * (MAX_ATTEMPTS - 1)
    assert sorted(o.index for o in outcomes) == [i for i in range(10) if i != 3]
    assert files(tmp_path) == {n: b for n, b in files(reference).items()
                               if n < "game-000010" and n != "game-000003.jsonl"}


def test_a_different_model_file_on_a_node_stops_the_sweep(local_ray, tmp_path: Path) -> None:
    """The actor checks each model file's sha256 against the driver's before any game."""
    plan = SweepPlan(("smollm2-135m",), 0, make_rules(players=5), ModelOptions(threads=1))

    class Mismatch(RaySweep):
        def _model_hashes(self) -> dict[str, str]:
            return {"smollm2-135m": "0" * 64}

    prepare_folder(tmp_path, plan, COMMAND, 2, False)
    with pytest.raises(MafiaError, match=r"model smollm2-135m .* has sha256 \w+, the driver's "
                                         r"has 0{64}; every node needs the same model file"):
        list(Mismatch(plan, [0, 1], tmp_path).run())
    assert not list(tmp_path.glob("game-*"))


def test_a_raising_game_raises_its_own_error(reference: Path) -> None:
    """In-process: the game's own exception comes out (not one from cleaning up its event
    loop), and the next game on the thread plays normally."""
    with pytest.raises(ChaosError, match="chaos: game 5 raised on purpose"):
        play_in_memory(PLAN, PLAN.game(5), [Chaos(raise_at=frozenset({5})).sink(5, 0)])
    _, data = play_in_memory(PLAN, PLAN.game(6))
    assert data == (reference / "game-000006.jsonl").read_bytes()


def test_chaos_reads_its_setting() -> None:
    assert Chaos.parse("slow=0.5, exit=3,exit=4,raise=7,crash=1") == Chaos(
        0.5, frozenset({3, 4}), frozenset({7}), frozenset({1}))
    assert not Chaos.parse("")
    with pytest.raises(MafiaError, match="MAFIA_RAY_CHAOS: cannot read 'boom=1'"):
        Chaos.parse("boom=1")


def test_without_ray_the_executor_is_one_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    from mafia.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ray" else real(name, *a))
    code = main(["sweep", "--agents", "random", "--games", "2", "--executor", "ray",
                 "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == ("error: --executor ray needs Ray: install mafia[ray] "
                           "(pip install 'mafia[ray]')")
    assert not (tmp_path / "x").exists()


# ---- the command line: a sweep with its own local Ray instance -----------------------------

def mafia(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mafia", *args], cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
                          capture_output=True, text=True, timeout=300)


def test_cli_ray_sweep_interrupted_failed_and_resumed(tmp_path: Path) -> None:
    """`--executor ray` end to end: SIGTERM stops it (finished games kept), the same command
    resumes, a game that raises makes it exit 1 naming the game and seed, and the sweep is
    then completed (here by the local executor: the folder does not care) byte for byte."""
    args = ["sweep", "--agents", "random", "--games", "20", "--players", "7"]
    folder = tmp_path / "ray"
    interrupted_sweep([*args[1:], "--executor", "ray"], folder, after=2, wait_s=120,
                      env={"MAFIA_RAY_CHAOS": "slow=0.3"})
    kept = len(list(folder.glob("game-*.jsonl")))
    assert 2 <= kept < 20

    resumed = mafia(*args, "--executor", "ray", "--out", str(folder),
                    env={"MAFIA_RAY_CHAOS": "raise=19"})
    seed = SweepPlan(("random",), 0, make_rules(players=7), ModelOptions()).game(19).seed
    assert resumed.returncode == 1, resumed.stderr
    assert f"({20 - kept} played now, {kept} already done)" in resumed.stderr
    assert (f"failed: game 19 (seed {seed}): ChaosError: chaos: game 19 raised on purpose"
            in resumed.stderr)
    assert "1 games failed and are missing" in resumed.stderr
    assert len(finished(folder, 20)) == 19 and not list(folder.glob("*.part"))

    completed = mafia(*args, "--out", str(folder))  # the same sweep, the local executor
    assert completed.returncode == 0, completed.stderr
    assert "(1 played now, 19 already done)" in completed.stderr
    reference = tmp_path / "local"
    assert mafia(*args, "--out", str(reference)).returncode == 0
    assert files(folder) == files(reference)


@pytest.mark.model
def test_small_model_sweep_through_ray_and_its_report(tmp_path: Path) -> None:
    """Two short games of the bundled model on Ray actors (2 threads each): the local
    executor's games (timings aside), each seat's header naming the threads and llama.cpp
    build it ran with; then the report."""
    import llama_cpp

    rules = tmp_path / "short.toml"
    rules.write_text("max_days = 1\ndiscussion_rounds = 1\n")
    args = ["sweep", "--agents", "gemma3-270m", "--games", "2", "--players", "5", "--roles",
            "mafia=1", "--rules", str(rules), "--threads", "2", "--max-tokens", "12"]
    folder = tmp_path / "sweep"
    sweep = mafia(*args, "--executor", "ray", "--out", str(folder))
    assert sweep.returncode == 0, sweep.stderr
    local = tmp_path / "local"
    assert mafia(*args, "--out", str(local)).returncode == 0
    names = sorted(p.name for p in folder.glob("game-*.jsonl"))
    assert names == sorted(p.name for p in local.glob("game-*.jsonl")) and len(names) == 2
    for name in names:
        assert comparable_lines(folder / name) == comparable_lines(local / name), name
    assert "ray: 1 game slot of 2 CPUs on 1 node" in sweep.stderr
    for path in sorted(folder.glob("game-*.jsonl")):
        head = json.loads(path.read_text().splitlines()[0])
        for seat in head["players"]:
            assert seat["agent"]["threads"] == 2
            assert seat["agent"]["llama_cpp"] == llama_cpp.__version__
    assert json.loads((folder / MANIFEST).read_text())["runtime"] == {
        "executor": "ray", "threads": 2, "llama_cpp": llama_cpp.__version__}
    report = mafia("report", str(folder), "--json", "--baseline-games", "50")
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["games"] == 2 and sum(data["wins"].values()) == 2
