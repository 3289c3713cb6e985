"""`mafia bench` figures and the floor arithmetic (no model is loaded here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers import REPO

from mafia.events import GameStarted, Message, ModelCall, PhaseStarted
from mafia.enums import Channel, Phase

from agents.floor import FloorTokens, Rates, floor_tokens


def _start(seq: int) -> GameStarted:
    players = [{"name": n, "agent": {"kind": "llm"}} for n in ("Alice", "Bob", "Carol")]
    return GameStarted(seq=seq, day=0, phase=Phase.SETUP, seed=1, version="t", config={},
                       players=players)


def _call(seq: int, player: str, prompt: int, reused: int, gen: int, purpose: str = "text"):
    return ModelCall(seq=seq, day=1, phase=Phase.DAY, visible_to=(player,), player=player,
                     decision="day_action", purpose=purpose, prompt_tokens=prompt,
                     reused_tokens=reused, generated_tokens=gen, latency_ms=1.0)


def test_floor_counts_shared_text_once() -> None:
    """A public line read by three seats costs once in the floor; private lines do not count
    as shared; generated tokens count once."""
    count = lambda text: len(text.split())  # noqa: E731 - a stand-in tokenizer
    events = [
        _start(0),
        PhaseStarted(seq=1, day=1, phase=Phase.DAY),
        Message(seq=2, day=1, phase=Phase.DAY, channel=Channel.PUBLIC, sender="Alice",
                text="one two three four"),
        Message(seq=3, day=1, phase=Phase.DAY, visible_to=("Alice", "Bob"), channel=Channel.DM,
                sender="Alice", recipient="Bob", text="secret words here"),
        _call(4, "Alice", 100, 40, 5), _call(5, "Bob", 100, 40, 7),
        _call(6, "Carol", 100, 40, 0, purpose="choice"),
    ]
    tokens = floor_tokens(events, count)
    assert tokens.generated == 12  # text calls only; choice "generated" are scored options
    # "Day 1." (2 words) and "Alice: one two three four" (5 words) are read by 3 seats: saved
    # twice each; the common part of the header (the rules) is saved twice too.
    assert tokens.shared_saved > 2 * (2 + 5)
    assert (tokens.shared_saved - 2 * (2 + 5)) % 2 == 0
    assert tokens.prefill == 3 * 60 - tokens.shared_saved
    assert FloorTokens(100, 10, 0).seconds(Rates(50.0, 10.0)) == 3.0


def test_bench_with_random_players_runs_and_reports_json(tmp_path) -> None:
    """The benchmark runs for any spec; with no model there is no floor (n/a, null)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "mafia", "bench", "--agents", "random",
                           "--games", "2", "--json", "--out", str(tmp_path)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert len(data["games"]) == 2 and data["rates"] is None
    assert all(g["floor_s"] is None and g["model_s"] == 0 for g in data["games"])
    assert data["peak_pss_mib"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed0.jsonl", "seed1.jsonl"]


def test_the_floor_is_the_same_whichever_backend_read_the_shared_header() -> None:
    """The batched backend copies the rules header from another seat's cache instead of
    evaluating it (shared_tokens). Those tokens are still new to the seat, so the floor does
    not move, while the bench's "evaluated" figure drops by exactly the copied tokens."""
    from mafia.bench import figures

    count = lambda text: len(text.split())  # noqa: E731 - a stand-in tokenizer
    simple = [_start(0), _call(1, "Alice", 100, 0, 3), _call(2, "Bob", 100, 0, 3)]
    copied = _call(2, "Bob", 100, 0, 3).model_copy(update={"shared_tokens": 30})
    batched = [simple[0], simple[1], copied]
    assert floor_tokens(simple, count) == floor_tokens(batched, count)
    evaluated = [figures(0, "town", 1, ev, 1.0, 0.0, 0).evaluated_tokens
                 for ev in (simple, batched)]
    assert evaluated == [200, 170]


def test_each_game_floor_uses_the_mean_of_the_rates_before_and_after_it() -> None:
    """The machine's speed drifts, so a game's floor uses rates measured around that game."""
    from mafia.cli.bench import Floor

    class Meter:
        def __init__(self) -> None:
            self.readings = iter([Rates(300.0, 40.0), Rates(200.0, 30.0), Rates(100.0, 20.0)])

        def measure(self) -> Rates:
            return next(self.readings)

    floor = Floor(Meter(), count=lambda text: len(text.split()))
    assert floor.start_rates == Rates(300.0, 40.0)
    floor.game_over()
    assert floor.rates == Rates(250.0, 35.0)
    floor.game_over()
    assert floor.rates == Rates(150.0, 25.0)
