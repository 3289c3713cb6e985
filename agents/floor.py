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

from agents.backends.llama_loading import load_llama
from agents.prompting import PromptBook
from agents.registry import ResolvedModel

_SAMPLE = "The quick brown fox jumps over the lazy dog while the town sleeps and the mafia plots. "


@dataclass(frozen=True)
class Rates:
    prefill_tok_s: float
    decode_tok_s: float


class RateMeter:
    """Raw llama.cpp speed for a model here, one sequence in an empty context: a batch of
    `prompt_tokens`, then single-token decode steps; the median of `repeats` runs of each
    (single runs on a shared 2-core machine moved by 30%). Each rate is the better of
    llama.cpp with and without flash attention (which wins depends on the model and the
    rate), so the floor is what llama.cpp can do at best. `mafia bench` measures again after
    every game: this machine's speed drifts over minutes. The context exists only while
    measuring, so it never counts in a game's memory."""

    def __init__(self, model: ResolvedModel, threads: int | None, prompt_tokens: int = 256,
                 decode_tokens: int = 16, repeats: int = 3) -> None:
        import os

        self.path = str(model.path)
        self.threads = threads or os.cpu_count() or 1
        self.prompt_tokens, self.decode_tokens, self.repeats = (prompt_tokens, decode_tokens,
                                                                repeats)

    def measure(self) -> Rates:
        on, off = self._measure(flash_attn=True), self._measure(flash_attn=False)
        return Rates(max(on.prefill_tok_s, off.prefill_tok_s),
                     max(on.decode_tok_s, off.decode_tok_s))

    def _measure(self, flash_attn: bool) -> Rates:
        import statistics

        n = self.threads
        llm = load_llama(model_path=self.path, n_ctx=1024, n_threads=n, n_threads_batch=n,
                         flash_attn=flash_attn, verbose=False)
        tokens = llm.tokenize((_SAMPLE * 40).encode(), add_bos=True)[:self.prompt_tokens]
        llm.eval(tokens)  # warm-up: the first batches pay one-off costs
        prefill, decode = [], []
        for _ in range(self.repeats):
            llm.reset()
            start = time.perf_counter()
            llm.eval(tokens)
            prefill.append(len(tokens) / (time.perf_counter() - start))
            start = time.perf_counter()
            for token in tokens[:self.decode_tokens]:
                llm.eval([token])
            decode.append(self.decode_tokens / (time.perf_counter() - start))
        llm.close()
        return Rates(statistics.median(prefill), statistics.median(decode))


def token_counter(model: ResolvedModel) -> Callable[[str], int]:
    llm = load_llama(model_path=str(model.path), vocab_only=True, verbose=False)
    return lambda text: len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


@dataclass(frozen=True)
class FloorTokens:
    prefill: int  # prompt tokens the game needed, shared text once
    generated: int
    shared_saved: int  # tokens evaluated per seat that a shared prefix would read once

    def seconds(self, rates: Rates) -> float:
        return self.prefill / rates.prefill_tok_s + self.generated / rates.decode_tok_s


def floor_tokens(events: Sequence[BaseEvent], count: Callable[[str], int]) -> FloorTokens:
    calls = [e for e in events if isinstance(e, ModelCall)]
    # Prompt tokens new to their seat (evaluated for it, or copied from another seat's cache),
    # plus option tokens scored beyond the first. The same for every backend.
    new_to_seat = sum(c.prompt_tokens - c.reused_tokens for c in calls)
    new_to_seat += sum(c.generated_tokens for c in calls if c.purpose == "choice")
    generated = sum(c.generated_tokens for c in calls if c.purpose == "text")
    last_call = {c.player: c.seq for c in calls}  # a seat read every line before its last call
    book = PromptBook()
    saved = 0
    for e in events:
        if e.visible_to is not None or isinstance(e, ModelCall):
            continue
        readers = sum(1 for seq in last_call.values() if seq > e.seq)
        if readers < 2:
            continue
        line = book.event.render(e={k: getattr(e, k) for k in type(e).model_fields}).strip()
        if line:
            saved += (readers - 1) * count(line + "\n")
    start = next((e for e in events if isinstance(e, GameStarted)), None)
    if start is not None and len(last_call) > 1:
        # The rules part of the header (everything before the seat's own name) is common text.
        seats = [p["name"] for p in start.players]
        header = book.header.render(seats=seats, me="\0", identity="", counts="some mafia")
        saved += (len(last_call) - 1) * count(header.split("\0")[0])
    return FloorTokens(max(new_to_seat - saved, 0), generated, saved)
