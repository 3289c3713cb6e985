"""The batched backend: every seat of one model in one llama.cpp context (multi_seq.py),
with the calls made at the same engine moment decoded together.

When a batch forms. The engine asks all players of a moment at once (`asyncio.gather`), and
a model player's path from being asked to calling its backend never waits on anything else.
So every seat of a moment submits its job within the same pass of the event loop. The first
submission schedules the flush a few `call_soon` hops later (enough for the engine's own task
hops); by then every seat of that moment has submitted, whatever the speed of the machine.
Seats woken by one finished batch likewise submit their next jobs (speech after "speak")
together. Batch composition is therefore a function of the game alone, and so are results:
same seed, same transcript. Jobs in a batch are ordered by seat.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mafia.errors import MafiaError

from mafia.agents.backends.base import Choice, Completion
from mafia.agents.backends.llama_cpp_backend import _COMPUTE
from mafia.agents.backends.llama_loading import llama_cpp_version, load_llama, set_adapter
from mafia.agents.backends.multi_seq import (
    ChoiceJob, Job, JobResult, MultiSeqContext, TextJob, use_flash_attn,
)
from mafia.agents.backends.sampling import SamplingParams
from mafia.agents.registry import ResolvedModel

FLUSH_HOPS = 3  # event-loop passes between a moment's first job and its flush
_Future = asyncio.Future  # of (JobResult, its share of the batch time in ms)


class BatchedModel:
    """One model, `n_seats` seats, one context; hands out a Backend per seat."""

    def __init__(self, model: ResolvedModel, *, n_seats: int, n_ctx: int = 2048,
                 n_threads: int | None = None, n_gpu_layers: int = 0,
                 lockstep: "Lockstep | None" = None, layout: str | None = None) -> None:
        self.model = model
        self.lockstep = lockstep  # several games in flight: batches form at its barrier
        if lockstep is not None:
            lockstep.models.append(self)
        n_threads = n_threads or os.cpu_count() or 1
        self.n_threads = n_threads
        try:
            # This Llama is the tokenizer and the handle on the (shared) loaded weights; its
            # own small context is not used for play.
            self.llm = load_llama(model_path=str(model.path), n_ctx=64, n_threads=n_threads,
                                  n_gpu_layers=n_gpu_layers, seed=0, verbose=False)
            self.ctx = MultiSeqContext(self.llm, n_seats=n_seats, n_ctx_per_seat=n_ctx,
                                       n_threads=n_threads, flash_attn=use_flash_attn(self.llm),
                                       layout=layout)
            if model.adapter is not None:
                set_adapter(self.llm, self.ctx.ctx, str(model.adapter))
        except (ValueError, RuntimeError, OSError) as exc:
            raise MafiaError(f"llama.cpp cannot load {model.path}: {exc}") from None
        self.n_ctx = n_ctx
        self.n_seats = n_seats
        self._pending: list[tuple[Job, _Future]] = []
        self._flusher = _Flusher(self._flush, self._after_flush)

    def seat(self, i: int, game: int = 0) -> "SeatBackend":
        """Seat i's backend (`game`: its game's slot among the games in flight). The group
        keeps no reference to it (no cycle: a finished game's context is freed as soon as
        its players are dropped)."""
        if not 0 <= i < self.n_seats:
            raise IndexError(f"seat {i} of {self.n_seats}")
        return SeatBackend(self, i, game)

    async def submit(self, job: Job, game: int = 0) -> tuple[JobResult, float]:
        """Run `job` in the next batch; returns its result and its share of the batch time."""
        loop = asyncio.get_running_loop()
        future: _Future = loop.create_future()
        self._pending.append((job, future))
        if self.lockstep is not None:
            self.lockstep.waiting.append(game)
            self.lockstep.poke(loop)
        else:
            self._flusher.request(loop)
        return await future

    def take(self) -> list[tuple[Job, _Future]]:
        """The pending jobs still awaited, in seq order, and none left pending."""
        batch = sorted(((j, f) for j, f in self._pending if not f.done()),
                       key=lambda jf: jf[0].seq)
        self._pending.clear()
        return batch

    async def run_batch(self, batch: list[tuple[Job, _Future]]) -> list[tuple[_Future, Any]]:
        """Runs a batch; each future's outcome: (its result, its share of the batch time in
        ms), or the exception (a failed decode fails this batch's calls, not the game)."""
        try:
            start = time.perf_counter()
            results = await asyncio.to_thread(self._run, [j for j, _ in batch])
        except Exception as exc:
            return [(f, exc) for _, f in batch]
        share = (time.perf_counter() - start) * 1000 / len(batch)
        return [(f, (r, share)) for (_, f), r in zip(batch, results)]

    async def _flush(self) -> None:
        batch = self.take()
        if batch:
            _settle(await self.run_batch(batch))

    def _after_flush(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._pending:
            self._flusher.request(loop)

    def _run(self, jobs: list[Job]) -> list[JobResult]:
        with _COMPUTE:
            return self.ctx.run(jobs)

    def close(self) -> None:
        """Free the context now. A Lockstep and its models refer to each other, so without
        this their KV cells wait for the cycle collector: a sweep's next block of games would
        allocate its own beside them (twice the memory)."""
        with _COMPUTE:
            self.ctx.close()
        if self.lockstep is not None and self in self.lockstep.models:
            self.lockstep.models.remove(self)


class Lockstep:
    """Batches for several games in flight in one event loop, formed at a barrier rather than
    from whatever is ready, so that a game's batches, and so its transcript, do not depend on
    the machine's speed.

    The barrier: every live game has a job waiting (or has ended). FLUSH_HOPS loop passes
    later (the rest of each game's moment submits in that time, as for one game), every
    model's pending jobs are run, model by model in a fixed order, and only then are all
    results handed back, in that order. While a flush runs no game can move (each is waiting
    on a job of it), so no batch depends on how long another took. A game waiting on
    something else (a `cmd:` bot's answer, a timeout) holds the barrier until it moves on:
    in-flight sweeps are exact for seats that do not depend on wall time."""

    def __init__(self) -> None:
        self.models: list[BatchedModel] = []
        self.live: set[int] = set()
        self.waiting: list[int] = []  # the game of each job taken by no flush yet
        self._flusher = _Flusher(self._flush, self.poke)
        self.flushes = 0

    def join(self, game: int) -> None:
        self.live.add(game)

    def leave(self, game: int) -> None:
        self.live.discard(game)
        self.poke(asyncio.get_running_loop())

    def ready(self) -> bool:
        waiting = set(self.waiting)
        return bool(waiting) and all(g in waiting for g in self.live)

    def poke(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.ready():
            self._flusher.request(loop)

    async def _flush(self) -> None:
        self.waiting.clear()
        batches = [(m, m.take()) for m in self.models]
        outcomes: list[tuple[_Future, Any]] = []
        try:
            for model, batch in batches:
                if batch:
                    outcomes += await model.run_batch(batch)
        finally:
            _settle(outcomes)  # all at once: nobody moved during the flush
            self.flushes += 1


class _Flusher:
    """Runs `flush` FLUSH_HOPS event-loop passes after it is first requested, one run at a
    time; `after` is called once a run has ended (to request the next if work is waiting)."""

    def __init__(self, flush: Callable[[], Awaitable[None]],
                 after: Callable[[asyncio.AbstractEventLoop], None]) -> None:
        self._flush = flush
        self._after = after
        self._scheduled = False
        self._running = False

    def request(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._scheduled and not self._running:
            self._scheduled = True
            loop.call_soon(self._tick, loop, FLUSH_HOPS)

    def _tick(self, loop: asyncio.AbstractEventLoop, hops: int) -> None:
        if hops > 0:
            loop.call_soon(self._tick, loop, hops - 1)
            return
        self._scheduled = False
        self._running = True
        loop.create_task(self._run(loop))

    async def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            await self._flush()
        finally:
            self._running = False
            self._after(loop)


def _settle(outcomes: list[tuple[_Future, Any]]) -> None:
    for future, outcome in outcomes:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


class SeatBackend:
    """The Backend one seat's player talks to."""

    scores_options = True  # choose() returns every option's log-probability

    def __init__(self, group: BatchedModel, seq: int, game: int = 0) -> None:
        self.group = group
        self.seq = seq
        self.game = game
        self.chat_template = group.model.chat_template
        self.n_ctx = group.n_ctx

    def describe(self) -> dict[str, Any]:
        # Threads and build are recorded because a seed's game can depend on them.
        return {**self.group.model.describe(), "threads": self.group.n_threads,
                "kv_layout": self.group.ctx.layout, "llama_cpp": llama_cpp_version()}

    def count_tokens(self, text: str) -> int:
        return len(self.group.ctx.tokenize(text))

    def reset(self) -> None:
        self.group.ctx.forget(self.seq)

    async def complete(self, prompt: str, *, seed: int, max_tokens: int,
                       stop: Sequence[str], temperature: float) -> Completion:
        job = TextJob(self.seq, prompt, seed, max_tokens, tuple(stop),
                      SamplingParams(temperature=temperature))
        r, ms = await self.group.submit(job, self.game)
        return Completion(text=r.text, prompt_tokens=r.prompt_tokens,
                          reused_tokens=r.reused_tokens, generated_tokens=r.generated_tokens,
                          latency_ms=ms, shared_tokens=r.shared_tokens)

    async def choose(self, prompt: str, options: Sequence[str], *, seed: int,
                     temperature: float) -> Choice:
        r, ms = await self.group.submit(ChoiceJob(self.seq, prompt, tuple(options), seed,
                                                  temperature), self.game)
        return Choice(index=r.index, prompt_tokens=r.prompt_tokens,
                      reused_tokens=r.reused_tokens, generated_tokens=r.generated_tokens,
                      latency_ms=ms, logprobs=r.scores, shared_tokens=r.shared_tokens)
