"""One llama.cpp context holding every seat of a model as its own sequence.

Why: with one `Llama` per seat, each seat re-reads text every other seat has read (the rules
header) and each call is a small batch (slow per token on a CPU). Here:
  - each seat is a sequence with its own KV stream (`kv_unified = false`, the default
    layout), so attention only ever looks at that seat's own cells. llama.cpp splits a batch
    over several streams into ubatches of equal token counts per consecutive sequence, so
    seven seats' tails of different lengths run as several small ubatches, each paying a
    pass over the weights: on 2 cores of an AMD EPYC, seven tails of 8-60 tokens (200 in
    all) took 515 ms as streams, 377 ms in one cache and 342 ms as one 200-token sequence.
    The other layout, one cache for every seat (`unified`, for plain-profile seats unless
    `MAFIA_KV_LAYOUT` says otherwise), batches them in
    one ubatch and stores shared text once (its cells carry every sharing seat's id; a
    seat attends only to its own, and flash attention skips masked cells), but every token
    then scans the mask of every seat's cells: in whole games it was faster per prompt token
    for the plain profile (2.49 against 2.79 ms) and slower for the assisted one (2.57
    against 2.22 ms), whose seats share less (docs/bench.md);
  - a seat whose cache is empty takes the longest matching prefix of another seat's cells,
    so shared text is read once;
  - the jobs of one engine moment (every living player voting, say) are decoded together: all
    prompt tails in one batch, then one token per speaking seat per step;
  - choices are scored by the log-probability of each option's tokens; the option trie's
    inner nodes (" dm" before the names) are evaluated after the prompt in the same batch and
    removed again.
Flash attention is chosen per model (see `use_flash_attn`). The result of a job depends only
on its seat's tokens and on which jobs share the batch (batch shapes change llama.cpp's
rounding); callers make the batch composition deterministic.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mafia.errors import MafiaError

from mafia.agents.backends.sampling import SamplingParams, pick, sample_token, token_logprobs

BATCH = 1024  # tokens per llama_decode call (longer work is split, in order)
MIN_COPY = 32  # a stream copy costs a few ms: worth it only for a longer shared prefix
# In one cache a copy only adds the seat's id to cells, so a short shared span (a public
# line of 15-30 tokens that every seat would read again) is worth taking; below a few tokens
# the extra llama_decode call of `_read_once` would cost more than it saves.
MIN_COPY_UNIFIED = 4
LAYOUTS = ("streams", "unified")  # a KV stream per seat, or one KV cache for every seat


def kv_layout(profile: str | None = None) -> str:
    """The KV layout a model's new contexts use: `MAFIA_KV_LAYOUT` (streams, unified, or
    auto, the default). Auto is unified for plain-profile seats, which share the public
    record, and streams for the others (the per-token figures in the docstring)."""
    layout = os.environ.get("MAFIA_KV_LAYOUT", "auto")
    if layout == "auto":
        return "unified" if profile == "plain" else "streams"
    if layout not in LAYOUTS:
        raise MafiaError(f"MAFIA_KV_LAYOUT={layout}: expected auto or one of "
                         f"{', '.join(LAYOUTS)}")
    return layout


@dataclass
class Phase:
    """llama_decode work of one kind: seconds, tokens, the sum of their positions (a cost
    linear in depth is then charged exactly) and llama_decode calls."""

    s: float = 0.0
    tokens: int = 0
    depth: int = 0
    decodes: int = 0

    def minus(self, other: "Phase") -> "Phase":
        return Phase(self.s - other.s, self.tokens - other.tokens, self.depth - other.depth,
                     self.decodes - other.decodes)


@dataclass
class Profile:
    """Where the batched backend's time goes, summed over every context of this process
    (`mafia bench` takes the difference around each game)."""

    runs: int = 0  # MultiSeqContext.run calls (batches of jobs)
    run_s: float = 0.0  # inside them: decoding, tokenizing, sampling, scoring, bookkeeping
    prompt: Phase = field(default_factory=Phase)  # prompt tails and option paths
    step: Phase = field(default_factory=Phase)  # generation: one token per speaking seat

    def since(self, before: "Profile") -> "Profile":
        return Profile(self.runs - before.runs, self.run_s - before.run_s,
                       self.prompt.minus(before.prompt), self.step.minus(before.step))

    def snapshot(self) -> "Profile":
        with _PROFILE_LOCK:
            return Profile(self.runs, self.run_s, replace(self.prompt), replace(self.step))

    def add(self, phase: str, seconds: float, entries: Sequence[tuple[int, int, int, bool]],
            decodes: int) -> None:
        with _PROFILE_LOCK:
            counter: Phase = getattr(self, phase)
            counter.s += seconds
            counter.tokens += len(entries)
            counter.depth += sum(e[1] for e in entries)
            counter.decodes += decodes


PROFILE = Profile()
_PROFILE_LOCK = threading.Lock()  # contexts of several models may run in several threads


@dataclass
class ChoiceJob:
    seq: int
    prompt: str
    options: Sequence[str]
    seed: int
    temperature: float


@dataclass
class TextJob:
    seq: int
    prompt: str
    seed: int
    max_tokens: int
    stop: Sequence[str]
    params: SamplingParams


Job = ChoiceJob | TextJob


@dataclass
class JobResult:
    prompt_tokens: int = 0
    reused_tokens: int = 0  # from the seat's own cells
    shared_tokens: int = 0  # copied from another seat's cells
    generated_tokens: int = 0
    index: int = -1  # ChoiceJob: into options
    scores: tuple[float, ...] | None = None
    text: str = ""  # TextJob


@dataclass
class _Work:
    """A job being run: its tokens and, for choices, the option trie."""

    job: Job
    tokens: list[int]
    keep: int = 0  # prompt tokens already in the seat's cells
    copied: int = 0  # of those, copied from another seat in this call
    fresh: int = 0  # of those, evaluated in this call (a shared prefix it read for all)
    result: JobResult = field(default_factory=JobResult)
    options: list[list[int]] = field(default_factory=list)  # option tokens after the prompt
    paths: list[tuple[int, ...]] = field(default_factory=list)  # deepest inner trie paths
    logits_at: dict[tuple[int, ...], int] = field(default_factory=dict)  # trie node -> entry
    dists: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict)
    generated: list[int] = field(default_factory=list)
    limit: int = 0  # most tokens a text job may generate
    rng: np.random.Generator | None = None
    done: bool = False


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class MultiSeqContext:
    """Sequence i is seat i."""

    def __init__(self, llm: Any, *, n_seats: int, n_ctx_per_seat: int, n_threads: int,
                 flash_attn: bool, layout: str | None = None) -> None:
        import llama_cpp.llama_cpp as raw

        self.raw = raw
        self.layout = layout or kv_layout()
        unified = self.unified = self.layout == "unified"
        self.min_copy = MIN_COPY_UNIFIED if unified else MIN_COPY
        self.llm = llm
        self.n_seats = n_seats
        self.n_ctx_per_seat = n_ctx_per_seat
        if n_seats > int(raw.llama_max_parallel_sequences()):
            raise RuntimeError(f"llama.cpp holds at most {raw.llama_max_parallel_sequences()} "
                               f"sequences in one context; {n_seats} seats share this model")
        params = raw.llama_context_default_params()
        params.n_ctx = n_seats * n_ctx_per_seat  # each stream gets n_ctx / n_seq_max cells
        params.n_batch = BATCH
        params.n_ubatch = 512
        params.n_seq_max = n_seats
        params.kv_unified = unified
        params.swa_full = True  # seats rewind their tails; a pruned sliding window could not
        params.flash_attn_type = (raw.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn
                                  else raw.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        params.n_threads = params.n_threads_batch = n_threads
        params.no_perf = True
        with quiet_native_output():  # notes about the SWA cache go to the stderr descriptor
            self.ctx = raw.llama_init_from_model(llm._model.model, params)
        if not self.ctx:
            raise RuntimeError("llama.cpp could not create a multi-sequence context")
        self.mem = raw.llama_get_memory(self.ctx)
        self.vocab = raw.llama_model_get_vocab(llm._model.model)
        self.n_vocab = int(raw.llama_vocab_n_tokens(self.vocab))
        self.batch = raw.llama_batch_init(BATCH, 0, 1)
        self.cached: dict[int, list[int]] = {}  # seat seq -> tokens in its cells, in order
        # Streams copied into since the last decode: llama.cpp copies stream data only at the
        # next decode, so they must not be copied from yet.
        self.unsettled: set[int] = set()
        self.lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _free, raw, self.ctx, self.batch)

    # ---- cache bookkeeping -----------------------------------------------------------------

    def close(self) -> None:
        """Free the context (its KV cells) now, not whenever the garbage collector finds it;
        later runs fail with RuntimeError. Idempotent."""
        with self.lock:
            self._finalizer()

    def forget(self, seq: int) -> None:
        with self.lock:
            self.raw.llama_memory_seq_rm(self.mem, seq, -1, -1)
            self.cached.pop(seq, None)

    def _clear(self) -> None:
        self.raw.llama_memory_clear(self.mem, True)
        self.cached.clear()
        self.unsettled.clear()

    def tokenize(self, text: str) -> list[int]:
        # special=True: chat-template markers in our own prompt become real control tokens.
        return self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)

    def _attach(self, seq: int, tokens: list[int]) -> tuple[int, int]:
        """Make the seat's cells hold the longest prefix of `tokens` it can get without
        evaluating (its own cells, or a copy of another seat's); returns that length and how
        much of it was copied. The last prompt token is always evaluated again: its logits
        are what the job needs."""
        limit = len(tokens) - 1
        own = self.cached.get(seq, [])
        keep = common_prefix(own, tokens)
        donor, shared = -1, 0
        for other, cells in self.cached.items():
            if other != seq and other not in self.unsettled:
                n = common_prefix(cells, tokens)
                if n > shared:
                    donor, shared = other, n
        if shared > keep + self.min_copy:
            keep = min(shared, limit)
            self._copy(donor, seq, keep)
            self.cached[seq] = tokens[:keep]
            return keep, keep
        keep = min(keep, limit)
        if keep < len(own):
            self.raw.llama_memory_seq_rm(self.mem, seq, keep, -1)
        self.cached[seq] = tokens[:keep]
        return keep, 0

    def _copy(self, src: int, dst: int, keep: int) -> None:
        """dst's cells become src's first `keep` cells. One cache: the cells gain dst's id
        (nothing is copied). Streams: a whole-stream copy, done at the next decode, then
        trimmed."""
        self.raw.llama_memory_seq_rm(self.mem, dst, -1, -1)
        if self.unified:
            self.raw.llama_memory_seq_cp(self.mem, src, dst, 0, keep)
            return
        self.raw.llama_memory_seq_cp(self.mem, src, dst, -1, -1)
        self.raw.llama_memory_seq_rm(self.mem, dst, keep, -1)
        self.unsettled.add(dst)

    # ---- decoding --------------------------------------------------------------------------

    def _decode(self, entries: list[tuple[int, int, int, bool]],
                phase: str = "prompt") -> dict[int, np.ndarray]:
        """Evaluate (token, position, sequence, wants logits) entries in order; returns the
        logits of the entries that asked, by entry index. `phase` ("prompt" or "step") is
        what the time counts as in PROFILE."""
        out: dict[int, np.ndarray] = {}
        b = self.batch
        spent = 0.0
        for start in range(0, len(entries), BATCH):
            chunk = entries[start:start + BATCH]
            for i, (token, pos, seq, logits) in enumerate(chunk):
                b.token[i] = token
                b.pos[i] = pos
                b.n_seq_id[i] = 1
                b.seq_id[i][0] = seq
                b.logits[i] = 1 if logits else 0
            b.n_tokens = len(chunk)
            t0 = time.perf_counter()
            rc = self.raw.llama_decode(self.ctx, b)
            spent += time.perf_counter() - t0
            if rc != 0:
                raise RuntimeError(f"llama_decode failed ({rc})")
            self.unsettled.clear()
            for i, (_, _, _, logits) in enumerate(chunk):
                if logits:
                    ptr = self.raw.llama_get_logits_ith(self.ctx, i)
                    out[start + i] = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()
        PROFILE.add(phase, spent, entries, -(-len(entries) // BATCH))
        return out

    def run(self, jobs: Sequence[Job]) -> list[JobResult]:
        """Run the jobs of one moment together (one job per seat)."""
        with self.lock:
            if not self._finalizer.alive:
                raise RuntimeError("the multi-sequence context was closed")
            t0 = time.perf_counter()
            try:
                return self._run(jobs)
            except RuntimeError:
                self._clear()  # the cells may be half written; the next calls start cold
                raise
            finally:
                with _PROFILE_LOCK:
                    PROFILE.runs += 1
                    PROFILE.run_s += time.perf_counter() - t0

    def _run(self, jobs: Sequence[Job]) -> list[JobResult]:
        works = [_Work(job, self.tokenize(job.prompt)) for job in jobs]
        self._share_prefix(works)
        for w in works:
            w.keep, copied = self._attach(w.job.seq, w.tokens)
            w.copied = max(w.copied, copied)
            if isinstance(w.job, ChoiceJob):
                self._plan_options(w)
            r = w.result
            r.prompt_tokens = len(w.tokens)
            r.shared_tokens = min(w.copied, w.keep)
            r.reused_tokens = max(0, w.keep - r.shared_tokens - w.fresh)
        self._prefill(works)
        for w in works:
            if isinstance(w.job, ChoiceJob):
                self._score(w)
        self._generate([w for w in works if isinstance(w.job, TextJob)])
        return [w.result for w in works]

    def _share_prefix(self, works: list[_Work]) -> None:
        """Text every prompt of this batch starts with and some seats have not read yet (the
        rules at a game's first batch; later, the public lines since a seat's last call) is
        read once, by the seat that holds most of it already, so that the others can copy it
        from that seat in `_attach` instead of each evaluating it again. Then the same within
        each group of prompts that share much more than the whole batch does: with several
        games in flight, the batch shares the rules and each game's seats their own public
        record (in one game there is no such group, and nothing more happens)."""
        if len(works) < 2:
            return
        n = min(len(w.tokens) for w in works) - 1
        for w in works[1:]:
            n = min(n, common_prefix(works[0].tokens, w.tokens))
        self._read_once(works, n)
        groups: list[list[_Work]] = []
        for w in works:  # in seat order: the grouping is a function of the prompts alone
            group = next((g for g in groups if common_prefix(g[0].tokens, w.tokens)
                          > n + MIN_COPY), None)
            if group is None:
                groups.append([w])
            else:
                group.append(w)
        if len(groups) > 1:
            for group in groups:
                self._share_prefix(group)

    def _read_once(self, works: list[_Work], n: int) -> None:
        """The first n tokens, which every work's prompt starts with, evaluated for one of
        them (the one holding most already) if others would otherwise read them again."""
        held = {w.job.seq: common_prefix(self.cached.get(w.job.seq, []), w.tokens[:n])
                for w in works}
        donor = max(works, key=lambda w: held[w.job.seq])
        if not any(n - held[w.job.seq] > self.min_copy for w in works if w is not donor):
            return
        keep, copied = self._attach(donor.job.seq, donor.tokens[:n + 1])
        if keep < n:
            seq = donor.job.seq
            self._decode([(t, p, seq, False) for p, t in enumerate(donor.tokens[keep:n], keep)])
            self.cached[seq] = donor.tokens[:n]
        donor.fresh += n - keep
        donor.copied = max(donor.copied, copied)

    def _plan_options(self, w: _Work) -> None:
        """Option tokens after the prompt, and the deepest inner paths of their trie: the
        nodes whose logits scoring needs beyond the prompt's own."""
        job = w.job
        assert isinstance(job, ChoiceJob)
        # Tokenise each option in context: the boundary with the prompt may merge.
        fulls = [self.tokenize(job.prompt + option) for option in job.options]
        base = min([len(w.tokens)] + [common_prefix(w.tokens, f) for f in fulls])
        if base < len(w.tokens):  # an option merges with the prompt's last tokens
            w.tokens = w.tokens[:base]
            w.keep = min(w.keep, base - 1)
            self.raw.llama_memory_seq_rm(self.mem, job.seq, w.keep, -1)
            self.cached[job.seq] = w.tokens[:w.keep]
        w.options = [f[base:] for f in fulls]
        inner = {tuple(o[:-1]) for o in w.options if len(o) > 1}
        w.paths = sorted(p for p in inner if not any(q != p and q[:len(p)] == p for q in inner))

    def _prefill(self, works: list[_Work]) -> None:
        """Every prompt tail in one batch, each followed by its first option path; further
        paths (rare: options that branch after different first tokens) in more rounds."""
        rounds = max([1] + [len(w.paths) for w in works])
        for r in range(rounds):
            entries: list[tuple[int, int, int, bool]] = []
            for w in works:
                seq, n = w.job.seq, len(w.tokens)
                if r == 0:
                    for pos in range(w.keep, n):
                        entries.append((w.tokens[pos], pos, seq, pos == n - 1))
                    w.logits_at[()] = len(entries) - 1
                if r < len(w.paths):
                    path = w.paths[r]
                    for k in range(1, len(path) + 1):
                        entries.append((path[k - 1], n + k - 1, seq, True))
                        w.logits_at[path[:k]] = len(entries) - 1
                        w.result.generated_tokens += 1
            logits = self._decode(entries)
            for w in works:
                if r == 0:
                    w.dists[()] = logits[w.logits_at[()]]
                    self.cached[w.job.seq] = list(w.tokens)
                if r < len(w.paths):
                    for k in range(1, len(w.paths[r]) + 1):
                        node = w.paths[r][:k]
                        w.dists.setdefault(node, logits[w.logits_at[node]])
                    # the path was evaluated after the prompt; the cache keeps the prompt only
                    self.raw.llama_memory_seq_rm(self.mem, w.job.seq, len(w.tokens), -1)

    def _score(self, w: _Work) -> None:
        job = w.job
        assert isinstance(job, ChoiceJob)
        # The tokens each trie node must score, then one log-softmax per node.
        wanted: dict[tuple[int, ...], list[int]] = {}
        for option in w.options:
            for j, token in enumerate(option):
                wanted.setdefault(tuple(option[:j]), []).append(token)
        logp = {node: dict(zip(tokens, token_logprobs(w.dists[node], tokens).tolist()))
                for node, tokens in wanted.items()}
        scores = [sum(logp[tuple(option[:j])][token] for j, token in enumerate(option))
                  if option else -1e9 for option in w.options]
        w.result.scores = tuple(scores)
        w.result.index = pick(np.array(scores), job.temperature, job.seed)

    def _generate(self, works: list[_Work]) -> None:
        """Sample every text job's tokens, one decode step for all of them at a time."""
        for w in works:
            job = w.job
            assert isinstance(job, TextJob)
            w.rng = np.random.default_rng(job.seed)
            w.limit = max(1, min(job.max_tokens, self.n_ctx_per_seat - len(w.tokens)))
            w.result.generated_tokens = 0
            self._take(w, w.dists[()])
        while True:
            active = [w for w in works if not w.done]
            if not active:
                return
            entries = [(w.generated[-1], len(self.cached[w.job.seq]), w.job.seq, True)
                       for w in active]
            logits = self._decode(entries, "step")
            for i, w in enumerate(active):
                self.cached[w.job.seq].append(w.generated[-1])
                self._take(w, logits[i])

    def _take(self, w: _Work, logits: np.ndarray) -> None:
        """Sample one token for a text job and decide whether it is finished."""
        job = w.job
        assert isinstance(job, TextJob) and w.rng is not None
        # Like llama.cpp's sampler chain as llama-cpp-python builds it for one completion, the
        # repeat penalty sees only this call's own tokens, not the prompt (whose many newlines
        # would otherwise be penalised, and messages would run on past their line).
        token = sample_token(logits, w.generated, job.params, w.rng)
        w.result.generated_tokens += 1
        if self.raw.llama_vocab_is_eog(self.vocab, token):
            w.done = True
            return
        w.generated.append(token)
        text = self.llm.detokenize(w.generated).decode("utf-8", errors="ignore")
        cut = min((text.find(s) for s in job.stop if s in text), default=-1)
        if cut >= 0:  # the stop token itself is never evaluated
            w.result.text = text[:cut]
            w.done = True
            return
        w.result.text = text
        w.done = len(w.generated) >= w.limit


def use_flash_attn(llm: Any) -> bool:
    """llama.cpp's CPU flash attention pays per cached cell and head, which a wide head
    amortises: with Gemma 3 (head size 256) it was faster for prefill and decode here, with
    SmolLM2 (64) prefill was 20% faster but a decode step at depth 1,500 took 2.3x as long."""
    meta = llm.metadata
    arch = meta.get("general.architecture", "")
    key_length = meta.get(f"{arch}.attention.key_length")
    if key_length is None:
        try:
            key_length = int(meta[f"{arch}.embedding_length"]) // int(
                meta[f"{arch}.attention.head_count"])
        except (KeyError, ValueError, ZeroDivisionError):
            return False
    return int(key_length) >= 128


def quiet_native_output() -> Any:
    from llama_cpp._utils import suppress_stdout_stderr

    return suppress_stdout_stderr(disable=False)


def _free(raw: Any, ctx: Any, batch: Any) -> None:
    raw.llama_batch_free(batch)
    raw.llama_free(ctx)
