"""Benchmark figures for model games: time, tokens and memory, read from the events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from mafia.events import BaseEvent, InvalidAction, ModelCall

T = TypeVar("T")


def pss_bytes() -> int | None:
    """Proportional set size of this process (shared model pages counted fairly)."""
    try:
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class PeakPss:
    """Samples PSS in a background thread; `peak` is the largest value seen."""

    def __init__(self, interval_s: float = 0.25) -> None:
        self.interval_s = interval_s
        self.peak = pss_bytes() or 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak = max(self.peak, pss_bytes() or 0)

    def start(self) -> None:
        self._thread.start()

    def __enter__(self) -> "PeakPss":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, pss_bytes() or 0)


@dataclass
class Breakdown:
    """A game's wall time split by where it went (batched backend only), each llama.cpp part
    beside its floor: the same tokens at this machine's raw rates for their depth. The parts
    add up: wall - floor = outside + python + (prompt - prompt floor) + (steps - steps floor)
    + reread."""

    outside_s: float  # wall minus the backend's batches: engine, players, event-loop hops
    python_s: float  # in the backend's batches but not in llama_decode
    batches: int
    prompt_s: float  # llama_decode of prompt tails, shared prefixes and option paths
    prompt_floor_s: float
    prompt_tokens: int
    prompt_decodes: int
    step_s: float  # llama_decode of generation steps (one token per speaking seat)
    step_floor_s: float  # at the single-sequence decode rate: a shared step can beat it
    step_tokens: int
    step_decodes: int
    reread_s: float  # floor of the tokens evaluated minus the game's floor: text read again

    @classmethod
    def of(cls, wall_s: float, floor_s: float, profile: Any, rates: Any) -> "Breakdown":
        p, g = profile.prompt, profile.step
        prompt_floor = rates.prefill_cost(p.tokens, p.depth)
        step_floor = rates.decode_cost(g.tokens, g.depth)
        return cls(outside_s=wall_s - profile.run_s, python_s=profile.run_s - p.s - g.s,
                   batches=profile.runs, prompt_s=p.s, prompt_floor_s=prompt_floor,
                   prompt_tokens=p.tokens, prompt_decodes=p.decodes, step_s=g.s,
                   step_floor_s=step_floor, step_tokens=g.tokens, step_decodes=g.decodes,
                   reread_s=prompt_floor + step_floor - floor_s)

    @classmethod
    def total(cls, parts: list["Breakdown"]) -> "Breakdown | None":
        if not parts:
            return None
        return cls(**{f.name: sum(getattr(b, f.name) for b in parts) for f in fields(cls)})


@dataclass
class GameFigures:
    seed: int
    winner: str
    days: int
    wall_s: float
    load_s: float
    model_s: float
    calls: int
    prompt_tokens: int
    reused_tokens: int
    generated_tokens: int
    invalid_actions: int
    decisions: int
    peak_pss_mib: float
    floor_s: float | None = None  # llama.cpp floor for this game's tokens (one model only)
    depth0_floor_s: float | None = None  # the same with every token at depth-0 cost
    floor_prefill_tokens: int | None = None
    shared_tokens: int | None = None  # tokens re-read per seat that are common text
    copied_tokens: int = 0  # prompt tokens copied from another seat's cache (not evaluated)
    prefill_tok_s: float | None = None  # the llama.cpp rates this game's floor used, depth 0
    decode_tok_s: float | None = None
    prefill_tok_s_1k: float | None = None  # ... and at depth 1,000
    decode_tok_s_1k: float | None = None
    prefill_depth: float | None = None  # mean depth of the prompt tokens new to their seat
    breakdown: Breakdown | None = None

    @property
    def floor_ratio(self) -> float | None:
        return self.wall_s / self.floor_s if self.floor_s else None

    @property
    def depth0_floor_ratio(self) -> float | None:
        return self.wall_s / self.depth0_floor_s if self.depth0_floor_s else None

    @property
    def evaluated_tokens(self) -> int:
        return self.prompt_tokens - self.reused_tokens - self.copied_tokens

    @property
    def overhead_s(self) -> float:
        return self.wall_s - self.model_s

    @property
    def gen_tok_s(self) -> float:
        return self.generated_tokens / self.model_s if self.model_s else 0.0


def figures(seed: int, winner: str, days: int, events: Iterable[BaseEvent], wall_s: float,
            load_s: float, peak_pss: int) -> GameFigures:
    events = list(events)
    calls = [e for e in events if isinstance(e, ModelCall)]
    # One decision per request with options, whether the model answered it or the engine
    # fell back (a refused answer logs both a call and an invalid_action for one request).
    decisions = len({(c.player, c.request) for c in calls if c.purpose == "choice"
                     and c.decision not in ("mafia_chat", "last_words")}
                    | {(e.player, e.request) for e in events if isinstance(e, InvalidAction)
                       and e.decision not in ("mafia_chat", "last_words")})
    return GameFigures(
        seed=seed, winner=winner, days=days, wall_s=wall_s, load_s=load_s,
        model_s=sum(c.latency_ms for c in calls) / 1000, calls=len(calls),
        prompt_tokens=sum(c.prompt_tokens for c in calls),
        reused_tokens=sum(c.reused_tokens for c in calls),
        copied_tokens=sum(c.shared_tokens for c in calls),
        generated_tokens=sum(c.generated_tokens for c in calls),
        invalid_actions=sum(1 for e in events if isinstance(e, InvalidAction)),
        decisions=decisions, peak_pss_mib=peak_pss / 2**20,
    )


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """fn's value and how long it took (seconds)."""
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start
