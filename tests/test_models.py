"""The real model path: bundled GGUF models through llama.cpp, in-process and over HTTP.

These play short but complete games (5 seats, small token limits) so they stay at a few
minutes in total on 2 CPU cores. Nothing here is faked: the models decide everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from helpers import free_port, llama_server

from mafia.cli.play import play_game
from mafia.config import make_rules
from mafia.state import rebuild_state
from mafia.transcript import comparable_lines, read_transcript

from mafia.agents.registry import resolve
from mafia.agents.seating import build_players
from mafia.agents.specs import ModelOptions

pytestmark = pytest.mark.model

MODEL = "gemma3-270m"  # the faster of the two bundled models on CPU
RULES = dict(players=5, roles={"mafia": 1}, discussion_rounds=1, max_days=2)
OPTIONS = ModelOptions(ctx=2048, max_tokens=12)
SEED = 11


def _play(seed: int, out: Path, options: ModelOptions = OPTIONS, spec: str = MODEL,
          **rules: object):
    r = make_rules(**{**RULES, **rules})
    players = build_players([spec], r.players, seed, options)
    return play_game(r, seed, players, out)


@pytest.fixture(scope="module", params=["batched", "simple"])
def twice(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The same seeded game played twice with a bundled model, with each backend."""
    folder = tmp_path_factory.mktemp("model-games")
    options = ModelOptions(ctx=OPTIONS.ctx, max_tokens=OPTIONS.max_tokens,
                           backend=request.param)
    first = _play(SEED, folder / "a.jsonl", options)
    second = _play(SEED, folder / "b.jsonl", options)
    return (first, folder / "a.jsonl"), (second, folder / "b.jsonl")


def test_model_game_ends_and_names_the_model(twice) -> None:
    """A real game finishes, and its header says which model file (and sha256) played."""
    (result, path), _ = twice
    events = read_transcript(path).events
    assert events[-1].kind == "game_over"
    assert result.winner.value in ("town", "mafia", "draw")
    model = resolve(MODEL)
    for seat in events[0].players:  # type: ignore[attr-defined]
        agent = seat["agent"]
        assert agent["kind"] == "llm"
        assert agent["model"] == MODEL
        assert agent["sha256"] == model.sha256
        assert agent["path"] == str(model.path)
        assert agent["quantization"] == "Q4_K_M"
        assert agent["prompt_style"] == "completion"  # Gemma's GGUF has no chat template


def test_every_decision_came_from_the_model_or_a_fallback(twice) -> None:
    """No decision is made behind the model's back: each one is a model call or a logged
    invalid_action with its fallback."""
    (result, path), _ = twice
    events = read_transcript(path).events
    # one or more choice calls per request (calibration at a seat's first request)
    choices = Counter((p, d) for p, d, _ in {(e.player, e.decision, e.request) for e in events
                                           if e.kind == "model_call" and e.purpose == "choice"})
    invalid = Counter((e.player, e.decision) for e in events if e.kind == "invalid_action")
    asked = Counter()
    for e in events:
        if e.kind == "vote_cast":
            asked[(e.voter, "vote")] += 1
        elif e.kind == "night_action":
            asked[(e.actor, e.action)] += 1
    for key, n in asked.items():
        assert choices[key] + invalid[key] == n, key
    spoken = Counter(e.sender for e in events if e.kind == "message")
    spoken.update(e.player for e in events if e.kind == "last_words")
    texts = Counter(e.player for e in events if e.kind == "model_call" and e.purpose == "text")
    for player, n in spoken.items():
        assert texts[player] >= n, player


def test_model_game_rebuilds_from_its_transcript(twice) -> None:
    """The transcript alone reconstructs the final state."""
    (result, path), _ = twice
    read = read_transcript(path)
    assert read.problems == []
    assert rebuild_state(read.events) == result.state


def test_prefix_cache_is_reused(twice) -> None:
    """Prompts grow at the end, so most prompt tokens come from each seat's KV cache."""
    (_, path), _ = twice
    calls = [e for e in read_transcript(path).events if e.kind == "model_call"]
    assert calls
    prompt = sum(c.prompt_tokens for c in calls)
    reused = sum(c.reused_tokens for c in calls)
    assert reused > 0.5 * prompt, (reused, prompt)


def test_same_seed_same_transcript_with_a_real_model(twice) -> None:
    """Same seed, same machine, same threads: identical transcripts (timings removed)."""
    (_, a), (_, b) = twice
    assert comparable_lines(a) == comparable_lines(b)


# ---- the OpenAI-compatible endpoint, served by llama-cpp-python's own server ----------------


@pytest.fixture(scope="module")
def server():
    """`python -m llama_cpp.server` (via our loader wrapper) on loopback with a bundled model."""
    pytest.importorskip("llama_cpp.server", reason="needs the llama-cpp-python[server] extra")
    port = free_port()
    threads = str(os.cpu_count() or 1)
    with llama_server(["--model", str(resolve(MODEL).path), "--host", "127.0.0.1", "--port",
                       str(port), "--n_ctx", "2048", "--n_threads", threads,
                       "--n_threads_batch", threads,
                       "--logits_all", "false"],  # no prompt log-probabilities: grammar
                      port) as url:
        yield url


def test_game_through_an_openai_compatible_endpoint(server: str, tmp_path: Path) -> None:
    """Seats served over HTTP play a full game; grammar-constrained choices (this server
    returns no prompt log-probabilities) are all legal."""
    options = ModelOptions(ctx=2048, max_tokens=12, endpoint=server)
    result = _play(SEED, tmp_path / "http.jsonl", options, players=4, max_days=1)
    events = read_transcript(tmp_path / "http.jsonl").events
    assert events[-1].kind == "game_over"
    for seat in events[0].players:  # type: ignore[attr-defined]
        assert seat["agent"]["endpoint"] == server
        assert seat["agent"]["sha256"] == resolve(MODEL).sha256
        assert seat["agent"]["choice_method"] == "grammar"
    calls = [e for e in events if e.kind == "model_call"]
    assert calls and all(c.prompt_tokens > 0 for c in calls)
    assert [e for e in events if e.kind == "invalid_action"] == []
    assert rebuild_state(events) == result.state


def test_unreachable_endpoint_is_one_clear_error(tmp_path: Path) -> None:
    """A wrong --endpoint fails at once with one line, not a game of fallbacks."""
    out = subprocess.run(
        [sys.executable, "-m", "mafia", "play", "--agents", MODEL, "--endpoint",
         f"http://127.0.0.1:{free_port()}/v1", "--quiet", "--out", str(tmp_path / "x.jsonl")],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "cannot reach endpoint" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_small_model_sweep_and_its_report(tmp_path: Path) -> None:
    """A real (tiny) sweep mixing a bundled model with random players, then its report."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    rules = tmp_path / "short.toml"
    rules.write_text("max_days = 1\ndiscussion_rounds = 1\n[roles]\nmafia = 1\n")
    folder = tmp_path / "sweep"
    sweep = subprocess.run(
        [sys.executable, "-m", "mafia", "sweep", "--agents", f"{MODEL},random", "--games", "2",
         "--players", "5", "--rules", str(rules), "--max-tokens", "12", "--out", str(folder)],
        capture_output=True, text=True, timeout=600, env=env)
    assert sweep.returncode == 0, sweep.stderr
    report = subprocess.run(
        [sys.executable, "-m", "mafia", "report", str(folder), "--json",
         "--baseline-games", "200"], capture_output=True, text=True, timeout=600, env=env)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["games"] == 2 and sum(data["wins"].values()) == 2
    model = data["models"][MODEL]
    assert model["seat_games"] == 5  # rotation: 3 seats in one game, 2 in the other
    # What the model said depends on the CPU's rounding (a game may have no speech), so the
    # figures are checked against the transcripts rather than against zero.
    calls = [json.loads(line) for f in sorted(folder.glob("game-*.jsonl"))
             for line in f.read_text().splitlines() if '"model_call"' in line]
    assert calls and model["seconds_per_game"] > 0
    generated = sum(c["generated_tokens"] for c in calls if c["kind"] == "model_call")
    assert model["tokens_per_game"] == pytest.approx(generated / 5)
    assert data["models"]["random"]["tokens_per_game"] == 0
    assert data["baseline"]["games"] == 200


# ---- discussion protocols with a real model ------------------------------------------------

@pytest.mark.parametrize("discussion", ["bidding", "clock"])
async def test_a_model_plays_the_bidding_and_clock_protocols(discussion: str) -> None:
    """Under the checker, model seats bid for the floor (each bid a model call or a logged
    fallback) and chat on the simulated clock (messages stamped, in time order)."""
    from helpers import run_checked

    r = make_rules(**{**RULES, "max_days": 1, "discussion": discussion, "discussion_turns": 3,
                      "clock_decisions_per_day": 2, "day_seconds": 60.0,
                      "typing_events": True})
    players = build_players([MODEL], r.players, SEED, OPTIONS)
    result, checker = await run_checked(r, SEED, players, allow_invalid=True)
    events = result.events
    assert events[-1].kind == "game_over"
    if discussion == "bidding":
        turns = [e for e in events if e.kind == "floor_bids"]
        assert len(turns) == 3
        bids = {(e.player, e.request) for e in events
                if e.kind == "model_call" and e.decision == "bid"}
        fallbacks = [e for e in events if e.kind == "invalid_action" and e.decision == "bid"]
        assert len(bids) + len(fallbacks) == sum(len(t.bids) for t in turns)  # type: ignore[attr-defined]
    else:
        day = [e for e in events if e.kind == "message" and e.phase.value == "day"]
        assert all(e.t is not None and e.t <= 60.0 for e in day)  # type: ignore[attr-defined]
        asked = [e for e in events if e.kind == "model_call" and e.decision == "day_action"]
        assert asked and len({(e.player, e.request) for e in asked}) <= 2 * r.players
