"""`mafia probe`: recorded votes rebuilt exactly as the engine asked them, the model's option
probabilities read back by hand-checkable arithmetic, user mistakes as one line, and (model
test) the real model re-asked under the installed prompts and under a variant."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO
from transcripts import HandTranscript

from mafia.config import make_rules
from mafia.decisions import Answer, Request
from mafia.engine import Engine
from mafia.enums import DecisionKind
from mafia.events import (
    InvestigationResult, NightAction, NobodyDied, PhaseStarted, PlayerDied,
)
from mafia.report.load import load_games

from mafia.agents.backends.base import Choice
from mafia.agents.backends.fake import ScriptedBackend
from mafia.probe import probabilities, probe, vote_points
from mafia.agents.random_player import RandomPlayer


class VoteRecorder(RandomPlayer):
    """Random play that keeps every vote request it was given."""

    def __init__(self, seed: int, seat: int, asked: list[Request]) -> None:
        super().__init__(seed, seat)
        self.asked = asked

    async def act(self, request: Request) -> Answer:
        if request.kind is DecisionKind.VOTE:
            self.asked.append(request)
        return await super().act(request)


RULE_SETS = [{}, {"vote_reveal": "sequential"}, {"allow_abstain": True},
             {"discussion": "clock", "players": 6}, {"first_phase": "day", "players": 5},
             {"discussion": "round_robin", "dm_limit_per_day": 0}]


@pytest.mark.parametrize("values", RULE_SETS)
def test_probe_rebuilds_every_vote_as_the_engine_asked_it(tmp_path: Path,
                                                          values: dict[str, Any]) -> None:
    """Over seeded games: the same votes, each with the observation (every event the voter
    had seen, alive, role, teammates) and the options the engine gave the player."""
    rules = make_rules(**values)
    for seed in range(12):
        asked: list[Request] = []
        players = [VoteRecorder(seed, i, asked) for i in range(rules.players)]
        engine = Engine(rules, seed, players)
        asyncio.run(engine.run())
        path = tmp_path / f"g{seed}.jsonl"
        path.write_text("".join(e.model_dump_json() + "\n" for e in engine.events))
        (game,) = load_games(path).games
        rebuilt = vote_points(game)
        key = lambda r: (r.observation.day, r.player)  # noqa: E731
        lone = [r for r in asked  # a mafia seat without a living teammate: not probed
                if r.observation.role.value == "mafia"
                and not set(r.observation.teammates) & set(r.observation.alive)]
        assert sorted(map(key, (p.request for p in rebuilt))) == \
            sorted(key(r) for r in asked if r not in lone)
        by_key = {key(p.request): p.request for p in rebuilt}
        for request in (r for r in asked if r not in lone):
            got = by_key[key(request)]
            assert got.options == request.options
            assert got.observation == request.observation, (seed, key(request))


def _found_mafia_day(path: Path) -> Path:
    """Alice mafia, Bob detective who found her, Carol and Dave villagers. Day 1 votes."""
    t = HandTranscript(make_rules(players=4, roles={"mafia": 1, "detective": 1, "doctor": 0})
                       .model_dump(mode="json"),
                       {"Alice": "mafia", "Bob": "detective", "Carol": "villager",
                        "Dave": "villager"})
    t.add(PhaseStarted, 1, "night")
    t.add(NightAction, 1, "night", ["Alice"], actor="Alice", action="kill", target="Dave")
    t.add(NightAction, 1, "night", ["Bob"], actor="Bob", action="investigate", target="Alice")
    t.add(InvestigationResult, 1, "night", ["Bob"], detective="Bob", target="Alice",
          result="mafia")
    t.add(PhaseStarted, 1, "day")
    t.add(PlayerDied, 1, "day", player="Dave", cause="night", role="villager", team="town")
    t.say(1, "Bob", "Alice is mafia.")
    t.votes(1, [("Alice", "Bob"), ("Bob", "Alice"), ("Carol", "Bob")], out="Bob")
    return t.write(path, "mafia", 1)


def test_a_detective_who_cleared_a_living_player_is_its_own_group(tmp_path: Path) -> None:
    """Bob (detective) cleared Carol: his vote is in "cleared" (right: the mafia, Alice);
    Carol's and Dave's are town votes."""
    t = HandTranscript(make_rules(players=4, roles={"mafia": 1, "detective": 1, "doctor": 0})
                       .model_dump(mode="json"),
                       {"Alice": "mafia", "Bob": "detective", "Carol": "villager",
                        "Dave": "villager"})
    t.add(PhaseStarted, 1, "night")
    t.add(InvestigationResult, 1, "night", ["Bob"], detective="Bob", target="Carol",
          result="town")
    t.add(PhaseStarted, 1, "day")
    t.add(NobodyDied, 1, "day")
    t.votes(1, [("Alice", "Bob"), ("Bob", "Carol"), ("Carol", "Bob"), ("Dave", "Alice")],
            out="Bob")
    (game,) = load_games(t.write(tmp_path / "g.jsonl", "mafia", 1)).games
    assert [(p.request.player, p.group, sorted(p.right), p.recorded)
            for p in vote_points(game)] == [
        ("Bob", "cleared", ["Alice"], "Carol"), ("Carol", "town", ["Alice"], "Bob"),
        ("Dave", "town", ["Alice"], "Alice")]


class TableBackend(ScriptedBackend):
    """Scores every option from a fixed table (content-free prompts included), as the
    llama.cpp backends do: one log-probability per option."""

    scores_options = True

    def __init__(self, table: dict[str, float]) -> None:
        super().__init__()
        self.table = table

    async def choose(self, prompt, options, *, seed, temperature):  # type: ignore[override]
        self.prompts.append(prompt)
        scores = tuple(self.table.get(o.strip(), 0.0) for o in options)
        return Choice(0, 10, 0, 1, 0.0, logprobs=scores)


def test_probe_reads_the_probabilities_of_the_model_draw(tmp_path: Path) -> None:
    """Each voter's calibrated scores are its in-game log-probabilities less the same ones on
    the content-free prompt: with one table for both, every option scores 0, so the draw is
    uniform: Carol's P(Alice) = 1/2 (options Alice, Bob); Bob (found Alice) 1/2. Alice
    (mafia, no teammate alive) has no right or wrong vote: not probed."""
    (game,) = load_games(_found_mafia_day(tmp_path / "g.jsonl")).games
    points = vote_points(game)
    assert [(p.request.player, p.group, sorted(p.right), p.recorded) for p in points] == [
        ("Bob", "detective", ["Alice"], "Alice"),
        ("Carol", "town", ["Alice"], "Bob")]
    backend = TableBackend({"Alice": -1.0, "Bob": -3.0, "Carol": -2.0})
    tallies = asyncio.run(probe(points, backend, style="completion"))
    town, det = tallies["town"].to_json(), tallies["detective"].to_json()
    assert town["decisions"] == det["decisions"] == 1
    assert town["p_right"] == pytest.approx(0.5) and det["p_right"] == pytest.approx(0.5)
    assert (town["random"], town["recorded"], det["recorded"]) == (0.5, 0.0, 1.0)
    assert tallies["mafia"].to_json()["decisions"] == 0
    # the vote prompts are the players' own: the detective's ends after its finding
    assert any(p.endswith("Bob votes for") for p in backend.prompts)
    assert probabilities([" a", " b"], [0.0, -0.3 * 0.6931471805599453], 0.3) == \
        pytest.approx({"a": 2 / 3, "b": 1 / 3})


def _mafia(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mafia", "probe", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def test_probe_mistakes_are_one_line(tmp_path: Path) -> None:
    _found_mafia_day(tmp_path / "g.jsonl")
    for args, says in ((["--agents", "heuristic"], "probe asks one model"),
                       (["--prompts", str(tmp_path)], "not a copy of prompts/"),
                       (["--agents", "nope.gguf"], "nope.gguf")):
        got = _mafia(str(tmp_path), *args)
        assert got.returncode == 2 and says in got.stderr, got.stderr
        assert len(got.stderr.strip().splitlines()) == 1 and "Traceback" not in got.stderr
    got = _mafia(str(tmp_path / "missing"))
    assert got.returncode == 2 and len(got.stderr.strip().splitlines()) == 1


@pytest.mark.model
def test_probe_asks_the_bundled_model_under_each_prompt_set(tmp_path: Path) -> None:
    """The real model: probabilities for every vote, and a variant prompts folder changes
    them (its vote prefix hunts the other team)."""
    _found_mafia_day(tmp_path / "g.jsonl")
    installed = _mafia(str(tmp_path), "--json", "--threads", "2")
    assert installed.returncode == 0, installed.stderr
    variant = tmp_path / "variant"
    shutil.copytree(REPO / "prompts", variant, ignore=shutil.ignore_patterns("__pycache__"))
    decision = variant / "decision.j2"
    decision.write_text(decision.read_text().replace(
        '"town" if side == "mafia" else "mafia" }} player', '"mafia" if side == "mafia" '
        'else "town" }} player'))
    changed = _mafia(str(tmp_path), "--json", "--threads", "2", "--prompts", str(variant))
    assert changed.returncode == 0, changed.stderr
    a, b = json.loads(installed.stdout), json.loads(changed.stdout)
    for data in (a, b):
        assert {g: t["decisions"] for g, t in data["groups"].items()} == \
            {"town": 1, "detective": 1, "cleared": 0, "mafia": 0}
        assert all(0.0 <= t["p_right"] <= 1.0 for t in data["groups"].values()
                   if t["decisions"])
    assert b["prompts"] == str(variant)
    assert a["groups"]["town"]["p_right"] != b["groups"]["town"]["p_right"]
    # the detective who found Alice and said so votes for her (its prompt ends "Bob knows
    # that Alice is mafia. Bob votes for")
    assert a["groups"]["detective"]["p_right"] > 0.5
