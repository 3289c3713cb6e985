"""The llama.cpp floor of a game: how long its tokens would take at this machine's raw rates.

`mafia bench` measures prefill and decode rates at its start, then applies them to the tokens
a game really needed: every generated token once, every prompt token new to its seat once,
and text that every seat reads (the rules, the public log) once rather than once per seat.
Wall time over this floor says how much a backend loses to per-call overhead, re-reading
shared text per seat, and one-sequence-at-a-time decoding.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mafia.events import BaseEvent, GameStarted, ModelCall

from mafia.agents.backends.llama_loading import load_llama
from mafia.agents.prompting import PromptBook
from mafia.agents.registry import ResolvedModel

_SAMPLE = "The quick brown fox jumps over the lazy dog while the town sleeps and the mafia plots. "


@dataclass(frozen=True)
class PerToken:
    """Seconds llama.cpp needs per token at a given depth (tokens already in the sequence's
    context): `base + slope * depth`. Every token attends to all earlier ones, so the cost
    grows linearly with depth; for a model without sliding-window attention (SmolLM2) a token
    at depth 700 costs about a third more than one at the start of a context."""

    base: float
    slope: float

    def at(self, depth: float) -> float:
        return self.base + self.slope * depth

    def over(self, start: int, end: int) -> float:
        """Seconds for the tokens at depths start..end-1 (linear, so the mean depth is exact)."""
        n = end - start
        return n * self.at((start + end - 1) / 2) if n > 0 else 0.0

    @classmethod
    def through(cls, depth_a: float, seconds_a: float, depth_b: float,
                seconds_b: float) -> "PerToken":
        """The line through two measurements, bounded for noise: never falling with depth
        (the deeper run can happen to be faster) and never below half the shallower
        measurement at depth 0 (a slow deeper run would otherwise extrapolate to a cost near
        zero). Real slopes are far inside these bounds."""
        slope = min(max((seconds_b - seconds_a) / (depth_b - depth_a), 0.0),
                    seconds_a / (2 * depth_a) if depth_a > 0 else float("inf"))
        return cls(seconds_a - slope * depth_a, slope)


@dataclass(frozen=True)
class Rates:
    """This machine's llama.cpp cost per token for one model, one line per setting tried
    (flash attention on, off): the floor takes the faster setting for every span."""

    prefill: tuple[PerToken, ...]
    decode: tuple[PerToken, ...]

    def prefill_s(self, start: int, end: int) -> float:
        return min(line.over(start, end) for line in self.prefill)

    def decode_s(self, start: int, end: int) -> float:
        return min(line.over(start, end) for line in self.decode)

    def prefill_cost(self, tokens: int, depth_sum: float) -> float:
        """Seconds for `tokens` prompt tokens whose positions sum to `depth_sum`."""
        return min(line.base * tokens + line.slope * depth_sum for line in self.prefill)

    def decode_cost(self, tokens: int, depth_sum: float) -> float:
        """The same for single-sequence decode steps."""
        return min(line.base * tokens + line.slope * depth_sum for line in self.decode)

    def prefill_tok_s(self, depth: float = 0) -> float:
        return 1 / min(line.at(depth) for line in self.prefill)

    def decode_tok_s(self, depth: float = 0) -> float:
        return 1 / min(line.at(depth) for line in self.decode)

    def at_depth_zero(self) -> "Rates":
        """The same rates with the depth cost left out (the floor as first defined)."""
        return Rates(tuple(PerToken(x.base, 0.0) for x in self.prefill),
                     tuple(PerToken(x.base, 0.0) for x in self.decode))

    @staticmethod
    def mean(a: "Rates", b: "Rates") -> "Rates":
        def avg(xs: tuple[PerToken, ...], ys: tuple[PerToken, ...]) -> tuple[PerToken, ...]:
            return tuple(PerToken((x.base + y.base) / 2, (x.slope + y.slope) / 2)
                         for x, y in zip(xs, ys, strict=True))

        return Rates(avg(a.prefill, b.prefill), avg(a.decode, b.decode))


class RateMeter:
    """Raw llama.cpp speed for a model here, one sequence: a batch of `prompt_tokens`, then
    single-token decode steps, once in an empty context and once after `depth` tokens, so
    the floor can charge every token at the depth where the game put it. Each figure is the
    median of `repeats` runs (single runs on a shared 2-core machine moved by 30%), measured
    with flash attention on and off (which wins depends on the model, the rate and the
    depth). `mafia bench` measures again after every game: this machine's speed drifts over
    minutes. The context exists only while measuring, so it never counts in a game's memory."""

    def __init__(self, model: ResolvedModel, threads: int | None, prompt_tokens: int = 256,
                 decode_tokens: int = 16, repeats: int = 3, depth: int = 1024) -> None:
        import os

        self.path = str(model.path)
        self.threads = threads or os.cpu_count() or 1
        self.prompt_tokens, self.decode_tokens, self.repeats = (prompt_tokens, decode_tokens,
                                                                repeats)
        self.depth = depth

    def measure(self) -> Rates:
        on, off = self._measure(flash_attn=True), self._measure(flash_attn=False)
        return Rates((on[0], off[0]), (on[1], off[1]))

    def _measure(self, flash_attn: bool) -> tuple[PerToken, PerToken]:
        import statistics

        n, p, g, deep = self.threads, self.prompt_tokens, self.decode_tokens, self.depth
        llm = load_llama(model_path=self.path, n_ctx=deep + p + g + 64, n_threads=n,
                         n_threads_batch=n, flash_attn=flash_attn, verbose=False)
        text = llm.tokenize((_SAMPLE * (1 + (deep + p + g) // 10)).encode(), add_bos=True)
        assert len(text) >= deep + p + g, "the sample text is too short for the depth"

        def run(start: int) -> tuple[float, float]:
            """Seconds per token for a prompt batch at depth `start`, then for decode steps."""
            prefill, decode = [], []
            for _ in range(self.repeats):
                llm.n_tokens = start  # eval() drops the cache beyond n_tokens first
                t0 = time.perf_counter()
                llm.eval(text[start:start + p])
                prefill.append((time.perf_counter() - t0) / p)
                t0 = time.perf_counter()
                for token in text[start + p:start + p + g]:
                    llm.eval([token])
                decode.append((time.perf_counter() - t0) / g)
            return statistics.median(prefill), statistics.median(decode)

        llm.eval(text[:p])  # warm-up: the first batches pay one-off costs
        shallow = run(0)
        llm.n_tokens = 0
        llm.eval(text[:deep])  # fill the context to `depth` (not timed)
        deeper = run(deep)
        llm.close()
        # Prefill tokens sit at depths start..start+p-1, decode steps after them.
        mid_p, mid_g = (p - 1) / 2, p + (g - 1) / 2
        return (PerToken.through(mid_p, shallow[0], deep + mid_p, deeper[0]),
                PerToken.through(mid_g, shallow[1], deep + mid_g, deeper[1]))


def token_counter(model: ResolvedModel) -> Callable[[str], int]:
    llm = load_llama(model_path=str(model.path), vocab_only=True, verbose=False)
    return lambda text: len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


Span = tuple[int, int]  # depths [start, end) of tokens in one seat's context


@dataclass(frozen=True)
class FloorTokens:
    prefill_spans: tuple[Span, ...]  # where each call's tokens new to its seat sat
    decode_spans: tuple[Span, ...]
    saved_at: tuple[tuple[float, int], ...] = ()  # (depth, tokens) of shared text read again

    @property
    def shared_saved(self) -> int:
        """Tokens evaluated per seat that a shared prefix would read once."""
        return sum(n for _, n in self.saved_at)

    @property
    def prefill(self) -> int:
        """Prompt tokens the game needed, shared text once."""
        return max(sum(b - a for a, b in self.prefill_spans) - self.shared_saved, 0)

    @property
    def generated(self) -> int:
        return sum(b - a for a, b in self.decode_spans)

    @property
    def mean_depth(self) -> float:
        """Mean depth of the prompt tokens new to their seat."""
        new = sum(b - a for a, b in self.prefill_spans)
        return sum((a + b - 1) / 2 * (b - a) for a, b in self.prefill_spans) / new if new else 0.0

    def seconds(self, rates: Rates) -> float:
        """Every token at the cost of its depth; shared text refunded at the depth where the
        other seats read it."""
        prefill = sum(rates.prefill_s(a, b) for a, b in self.prefill_spans)
        prefill -= sum(n / rates.prefill_tok_s(depth) for depth, n in self.saved_at)
        return max(prefill, 0.0) + sum(rates.decode_s(a, b) for a, b in self.decode_spans)


def floor_tokens(events: Sequence[BaseEvent], count: Callable[[str], int]) -> FloorTokens:
    calls = [e for e in events if isinstance(e, ModelCall)]
    # Prompt tokens new to their seat (evaluated for it, or copied from another seat's cache),
    # plus option tokens scored beyond the first, just after the prompt. The same for every
    # backend.
    spans = [(c.reused_tokens, c.prompt_tokens) for c in calls]
    spans += [(c.prompt_tokens, c.prompt_tokens + c.generated_tokens) for c in calls
              if c.purpose == "choice"]
    decode = [(c.prompt_tokens, c.prompt_tokens + c.generated_tokens) for c in calls
              if c.purpose == "text"]
    by_seat: dict[str, list[ModelCall]] = {}
    for c in calls:
        by_seat.setdefault(c.player, []).append(c)
    book = PromptBook()
    saved: list[tuple[float, int]] = []
    for e in events:
        if e.visible_to is not None or isinstance(e, ModelCall):
            continue
        # A seat reads a public line in its first call after it, among that call's new tokens.
        firsts = [next(c for c in seat if c.seq > e.seq) for seat in by_seat.values()
                  if seat[-1].seq > e.seq]
        if len(firsts) < 2:
            continue
        line = book.event.render(e={k: getattr(e, k) for k in type(e).model_fields}).strip()
        if line:
            depth = sum((c.reused_tokens + c.prompt_tokens) / 2 for c in firsts) / len(firsts)
            saved.append((depth, (len(firsts) - 1) * count(line + "\n")))
    start = next((e for e in events if isinstance(e, GameStarted)), None)
    if start is not None and len(by_seat) > 1:
        # The rules part of the header (everything before the seat's own name) is common text.
        seats = [p["name"] for p in start.players]
        header = book.header.render(seats=seats, me="\0", identity="", counts="some mafia",
                                    example=book.example, role_rules=[],
                                    has={"doctor": True, "detective": True})
        rules = count(header.split("\0")[0])
        saved.append(((rules - 1) / 2, (len(by_seat) - 1) * rules))
    return FloorTokens(tuple(spans), tuple(decode), tuple(saved))
