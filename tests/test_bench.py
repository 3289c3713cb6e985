"""`mafia bench` figures and the floor arithmetic (no model is loaded here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers import REPO

from mafia.events import GameStarted, Message, ModelCall, PhaseStarted
from mafia.enums import Channel, Phase

from mafia.agents.floor import FloorTokens, PerToken, Rates, floor_tokens


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
        _call(4, "Alice", 400, 40, 5), _call(5, "Bob", 400, 40, 7),
        _call(6, "Carol", 400, 40, 0, purpose="choice"),
    ]
    tokens = floor_tokens(events, count)
    assert tokens.generated == 12  # text calls only; choice "generated" are scored options
    # "Day 1." (2 words) and "Alice: one two three four" (5 words) are read by 3 seats: saved
    # twice each; the common part of the header (the rules) is saved twice too.
    assert tokens.shared_saved > 2 * (2 + 5)
    assert (tokens.shared_saved - 2 * (2 + 5)) % 2 == 0
    assert tokens.prefill == 3 * 360 - tokens.shared_saved
    flat = Rates((PerToken(1 / 50, 0.0),), (PerToken(1 / 10, 0.0),))
    # With no depth cost the floor is tokens over rates: 1,080 new prompt tokens less the
    # shared ones at 50 tok/s, 12 generated at 10 tok/s.
    assert tokens.seconds(flat) == pytest.approx(tokens.prefill / 50 + 12 / 10)


def _rates(prefill_slope: float = 0.0, decode_slope: float = 0.0) -> Rates:
    return Rates((PerToken(0.01, prefill_slope),), (PerToken(0.1, decode_slope),))


def test_the_floor_charges_every_token_at_the_cost_of_its_depth() -> None:
    """Attention reads every earlier token, so a token deep in a seat's context costs more:
    100 new tokens at depths 1000-1099 cost more than 100 at depths 0-99, by exactly the
    line's slope times the depth difference; generated tokens likewise."""
    shallow = FloorTokens(prefill_spans=((0, 100),), decode_spans=())
    deep = FloorTokens(prefill_spans=((1000, 1100),), decode_spans=())
    rates = _rates(prefill_slope=1e-5)
    assert shallow.seconds(rates) == pytest.approx(100 * (0.01 + 1e-5 * 49.5))
    assert deep.seconds(rates) - shallow.seconds(rates) == pytest.approx(100 * 1e-5 * 1000)
    assert deep.seconds(rates.at_depth_zero()) == pytest.approx(1.0)
    talk = FloorTokens(prefill_spans=(), decode_spans=((500, 510),))
    assert talk.seconds(_rates(decode_slope=1e-4)) == pytest.approx(10 * (0.1 + 1e-4 * 504.5))


def test_shared_text_is_refunded_at_the_depth_where_the_seats_read_it() -> None:
    """A public line read again by a second seat is taken off at that read's depth (the
    middle of the call's new tokens), so the refund never exceeds what the read cost."""
    count = lambda text: len(text.split())  # noqa: E731 - a stand-in tokenizer
    events = [PhaseStarted(seq=1, day=1, phase=Phase.DAY),
              _call(2, "Alice", 900, 800, 0, purpose="choice"),
              _call(3, "Bob", 300, 200, 0, purpose="choice")]
    tokens = floor_tokens(events, count)
    assert tokens.saved_at == ((550.0, 2),)  # "Day 1." read by both, at depths 850 and 250
    rates = _rates(prefill_slope=1e-5)
    spans = 100 * (0.01 + 1e-5 * 849.5) + 100 * (0.01 + 1e-5 * 249.5)
    assert tokens.seconds(rates) == pytest.approx(spans - 2 * (0.01 + 1e-5 * 550))


def test_the_floor_takes_the_faster_setting_for_every_span() -> None:
    """Flash attention can win shallow and lose deep (or the reverse): the floor is the
    best llama.cpp can do, so each span uses whichever setting is faster there."""
    fast_start = PerToken(0.010, 2e-5)
    flat = PerToken(0.015, 0.0)
    rates = Rates((fast_start, flat), (PerToken(0.1, 0.0),))
    assert rates.prefill_s(0, 10) == pytest.approx(fast_start.over(0, 10))
    assert rates.prefill_s(2000, 2010) == pytest.approx(flat.over(2000, 2010))
    assert rates.prefill_tok_s(0) == pytest.approx(1 / 0.010)
    assert rates.prefill_tok_s(1000) == pytest.approx(1 / 0.015)


def test_a_per_token_line_goes_through_two_measurements_and_never_falls() -> None:
    line = PerToken.through(100, 0.004, 1100, 0.005)
    assert line.at(100) == pytest.approx(0.004) and line.at(1100) == pytest.approx(0.005)
    noisy = PerToken.through(100, 0.005, 1100, 0.004)  # the deeper run happened to be faster
    assert noisy.slope == 0 and noisy.at(5000) == pytest.approx(0.005)
    steep = PerToken.through(100, 0.004, 200, 0.040)  # a stall during the deeper run
    assert steep.at(0) == pytest.approx(0.002) and steep.at(100) == pytest.approx(0.004)


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
            self.readings = iter([_rates(3e-5), _rates(1e-5), _rates(2e-5)])

        def measure(self) -> Rates:
            return next(self.readings)

    floor = Floor(Meter(), count=lambda text: len(text.split()))
    assert floor.start_rates == _rates(3e-5)
    floor.game_over()
    assert floor.rates.prefill[0].slope == pytest.approx(2e-5)
    floor.game_over()
    assert floor.rates.prefill[0].slope == pytest.approx(1.5e-5)


@pytest.mark.model
def test_the_rate_meter_measures_the_real_model_at_two_depths() -> None:
    """With the bundled model: one line per flash-attention setting for prefill and for
    decode, positive costs that never fall with depth, and a prompt batch cheaper per token
    than single-token decode steps (what makes prefix reuse and batching pay)."""
    from mafia.agents.floor import RateMeter
    from mafia.agents.registry import resolve

    rates = RateMeter(resolve("gemma3-270m"), threads=None, prompt_tokens=64, decode_tokens=4,
                      repeats=1, depth=192).measure()
    assert len(rates.prefill) == len(rates.decode) == 2
    assert all(line.base > 0 and line.slope >= 0 for line in rates.prefill + rates.decode)
    assert rates.prefill_tok_s(1000) <= rates.prefill_tok_s(0)
    assert rates.prefill_tok_s() > rates.decode_tok_s()


def test_the_breakdown_parts_add_up_to_wall_minus_floor() -> None:
    from mafia.agents.backends.multi_seq import Phase, Profile
    from mafia.bench import Breakdown

    rates = _rates(prefill_slope=1e-6, decode_slope=1e-5)
    profile = Profile(runs=10, run_s=9.0, prompt=Phase(6.0, 2000, 2000 * 300, 12),
                      step=Phase(2.5, 100, 100 * 500, 50))
    b = Breakdown.of(wall_s=10.0, floor_s=7.0, profile=profile, rates=rates)
    assert b.outside_s == pytest.approx(1.0) and b.python_s == pytest.approx(0.5)
    assert b.prompt_floor_s == pytest.approx(rates.prefill_cost(2000, 2000 * 300))
    parts = (b.outside_s + b.python_s + b.prompt_s - b.prompt_floor_s + b.step_s
             - b.step_floor_s + b.reread_s)
    assert parts == pytest.approx(10.0 - 7.0)
    total = Breakdown.total([b, b])
    assert total is not None and total.prompt_tokens == 4000 and total.reread_s == 2 * b.reread_s
