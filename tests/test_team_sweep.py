"""Team seating (`--town SPEC --mafia SPEC`): the deal is known before the players exist
(mafia.rules.deal_roles, the engine's own deal), every seat plays its team's spec, team sweeps
resume like any sweep, and the flags refuse to be mixed with --agents."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

from mafia.config import make_rules
from mafia.engine import Engine, run_game
from mafia.enums import Role
from mafia.events import RoleAssigned
from mafia.rules import deal_roles
from mafia.sweep import derive_seed
from mafia.transcript import read_transcript

from mafia.agents.random_player import RandomPlayer


def mafia_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "mafia", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def engine_deal(config: dict[str, object], seed: int) -> dict[str, Role]:
    rules = make_rules(**config)
    players = [RandomPlayer(seed, s) for s in range(rules.players)]
    result = run_game(Engine(rules, seed, players))
    return {e.player: Role(e.role) for e in result.events if isinstance(e, RoleAssigned)}


@pytest.mark.parametrize("config", [dict(players=7), dict(players=12, roles={"mafia": 4}),
                                    dict(players=5, first_phase="day")])
def test_deal_roles_is_the_engines_deal(config: dict[str, object]) -> None:
    for seed in (0, 1, 99, 2**31 - 1):
        assert deal_roles(make_rules(**config), seed) == engine_deal(config, seed)


def seats_and_roles(path: Path) -> tuple[list[tuple[str, str]], dict[str, Role]]:
    events = read_transcript(path).events
    header = events[0]
    specs = [(p["name"], p["agent"]["spec"]) for p in header.players]
    roles = {e.player: Role(e.role) for e in events if isinstance(e, RoleAssigned)}
    return specs, roles


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("game-*.jsonl"))}


def test_team_sweep_seats_each_team_with_its_spec(tmp_path: Path) -> None:
    """Every mafia seat is the mafia spec, every town seat the town spec; the roles are those
    a normal game with the same seed deals; one game per seed, as a one-spec sweep's."""
    folder = tmp_path / "teams"
    proc = mafia_cli("sweep", "--town", "random", "--mafia", "heuristic", "--games", "24",
                     "--seed", "5", "--players", "8", "--out", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert len(files(folder)) == 24
    for index in range(24):
        path = folder / f"game-{index:06d}.jsonl"
        specs, roles = seats_and_roles(path)
        seed = derive_seed(5, index)
        assert read_transcript(path).events[0].seed == seed
        assert roles == engine_deal(dict(players=8), seed)
        for name, spec in specs:
            assert spec == ("heuristic" if roles[name] is Role.MAFIA else "random")
    manifest = json.loads((folder / "sweep.json").read_text())
    assert manifest["fingerprint"]["teams"] == {"town": "random", "mafia": "heuristic"}
    assert "no rotation" in manifest["seat_scheme"]

    report = mafia_cli("report", str(folder), "--json", "--baseline-games", "0",
                       "--bootstrap", "10")
    assert report.returncode == 0, report.stderr
    models = json.loads(report.stdout)["models"]
    assert set(models["heuristic"]["teams"]) == {"mafia"}
    assert set(models["random"]["teams"]) == {"town"}


def test_team_sweep_resumes_and_extends(tmp_path: Path) -> None:
    """A lost game and a stale partial file are played again; more games extend the sweep;
    the result is byte for byte an uninterrupted sweep."""
    args = ["sweep", "--town", "heuristic", "--mafia", "random", "--seed", "2",
            "--workers", "1"]
    folder, reference = tmp_path / "resumed", tmp_path / "reference"
    assert mafia_cli(*args, "--games", "12", "--out", str(folder)).returncode == 0
    (folder / "game-000004.jsonl").unlink()
    (folder / "game-000007.jsonl").rename(folder / "game-000007.part")
    again = mafia_cli(*args, "--games", "20", "--out", str(folder))
    assert again.returncode == 0, again.stderr
    assert "10 already done" in again.stderr
    assert list(folder.glob("*.part")) == []
    assert mafia_cli(*args, "--games", "20", "--out", str(reference)).returncode == 0
    assert files(folder) == files(reference) and len(files(folder)) == 20

    other = mafia_cli("sweep", "--town", "random", "--mafia", "random", "--seed", "2",
                      "--games", "20", "--out", str(folder))
    assert other.returncode == 2 and "differs in: agents, teams" in other.stderr


def test_play_with_teams(tmp_path: Path) -> None:
    out = tmp_path / "game.jsonl"
    proc = mafia_cli("play", "--town", "heuristic", "--mafia", "random", "--seed", "8",
                     "--quiet", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    specs, roles = seats_and_roles(out)
    assert roles == deal_roles(make_rules(), 8)
    assert [s for _, s in specs] == [
        "random" if roles[n] is Role.MAFIA else "heuristic" for n, _ in specs]


@pytest.mark.parametrize("command", ["play", "sweep"])
@pytest.mark.parametrize("flags,message", [
    (["--agents", "random", "--town", "random", "--mafia", "random"],
     "--agents cannot be combined with --town/--mafia; give one or the other"),
    (["--town", "random"], "--town and --mafia go together: give both"),
    (["--mafia", "random"], "--town and --mafia go together: give both"),
    (["--town", "random,heuristic", "--mafia", "random"],
     "--town: give exactly one player spec, e.g. --town random"),
])
def test_team_flag_errors(tmp_path: Path, command: str, flags: list[str], message: str) -> None:
    """Mistakes are one `error:` line and exit status 2."""
    extra = ["--games", "2", "--out", str(tmp_path / "s")] if command == "sweep" else [
        "--quiet", "--out", str(tmp_path / "g.jsonl")]
    proc = mafia_cli(command, *flags, *extra)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: {message}"]


def test_sweep_needs_some_seating(tmp_path: Path) -> None:
    proc = mafia_cli("sweep", "--games", "2", "--out", str(tmp_path / "s"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: give --agents SPEC,... or --town SPEC --mafia SPEC"]
