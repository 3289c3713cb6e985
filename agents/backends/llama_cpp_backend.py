"""The simple (reference) backend: one `Llama` per seat, so each seat's prompt prefix stays
cached. The batched backend (batched.py) is the fast one.

Weights are memory-mapped, so several instances of one file share them. Calls run in a worker
thread (the asyncio engine stays responsive); one lock per instance means no two coroutines
ever use one `Llama` at once, and one process-wide lock keeps CPU calls from fighting over
the same cores (each call already uses every thread it is given).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from mafia.errors import MafiaError

from mafia.agents.backends.base import Choice, Completion
from mafia.agents.backends.llama_loading import llama_cpp_version, load_llama, set_adapter
from mafia.agents.backends.multi_seq import common_prefix as _common_prefix
from mafia.agents.backends.sampling import log_softmax as _log_softmax
from mafia.agents.backends.sampling import pick as _pick
from mafia.agents.registry import ResolvedModel

_COMPUTE = threading.Lock()


class LlamaCppBackend:
    scores_options = True  # choose() returns every option's log-probability

    def __init__(self, model: ResolvedModel, *, n_ctx: int = 4096, n_threads: int | None = None,
                 n_gpu_layers: int = 0) -> None:
        self.model = model
        self.chat_template = model.chat_template
        # llama-cpp-python defaults to half the cores; one call at a time should use them all.
        n_threads = n_threads or os.cpu_count() or 1
        self.n_threads = n_threads
        try:
            self.llm = load_llama(model_path=str(model.path), n_ctx=n_ctx, n_threads=n_threads,
                                  n_threads_batch=n_threads, n_gpu_layers=n_gpu_layers, seed=0,
                                  verbose=False)
            if model.adapter is not None:
                set_adapter(self.llm, self.llm._ctx.ctx, str(model.adapter))
        except (ValueError, RuntimeError, OSError) as exc:
            raise MafiaError(f"llama.cpp cannot load {model.path}: {exc}") from None
        self.n_ctx = self.llm.n_ctx()
        self._lock = threading.Lock()

    def describe(self) -> dict[str, Any]:
        # Threads and build are recorded because a seed's game can depend on them.
        return {**self.model.describe(), "threads": self.n_threads,
                "llama_cpp": llama_cpp_version()}

    def reset(self) -> None:
        with self._lock:
            self.llm.reset()

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text))

    def _tokenize(self, text: str) -> list[int]:
        # special=True: chat-template markers in our own prompt become real control tokens.
        return self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)

    async def complete(self, prompt: str, *, seed: int, max_tokens: int,
                       stop: Sequence[str], temperature: float) -> Completion:
        return await asyncio.to_thread(self._complete, prompt, seed, max_tokens, list(stop),
                                       temperature)

    async def choose(self, prompt: str, options: Sequence[str], *, seed: int,
                     temperature: float) -> Choice:
        return await asyncio.to_thread(self._choose, prompt, list(options), seed, temperature)

    # ---- blocking work, in a thread ---------------------------------------------------------

    def _complete(self, prompt: str, seed: int, max_tokens: int, stop: list[str],
                  temperature: float) -> Completion:
        with self._lock, _COMPUTE:
            start = time.perf_counter()
            tokens = self._tokenize(prompt)
            reused = _common_prefix(self.llm.input_ids[: self.llm.n_tokens], tokens)
            room = self.n_ctx - len(tokens)
            out = self.llm.create_completion(
                tokens, max_tokens=max(1, min(max_tokens, room)), stop=stop, seed=seed,
                temperature=temperature, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.1,
            )
            usage = out["usage"]
            return Completion(
                text=out["choices"][0]["text"],
                prompt_tokens=len(tokens),
                reused_tokens=min(reused, len(tokens)),
                generated_tokens=int(usage["completion_tokens"]),
                latency_ms=(time.perf_counter() - start) * 1000,
            )

    def _choose(self, prompt: str, options: list[str], seed: int,
                temperature: float) -> Choice:
        """Score each option by the log-probability of its tokens after the prompt (no
        sampling of free text), then draw one with the seed (temperature 0: the best)."""
        with self._lock, _COMPUTE:
            start = time.perf_counter()
            tokens = self._tokenize(prompt)
            # Tokenise each option in context: the boundary with the prompt may merge.
            fulls = [self._tokenize(prompt + option) for option in options]
            base = min([len(tokens)] + [_common_prefix(tokens, f) for f in fulls])
            seqs = [f[base:] for f in fulls]
            reused = self._prefill(tokens[:base])
            evaluated = 0
            dists: dict[tuple[int, ...], np.ndarray] = {(): self._last_logprobs()}
            scores = []
            for seq in seqs:
                total = 0.0
                for j, token in enumerate(seq):
                    prefix = tuple(seq[:j])
                    if prefix not in dists:  # options sharing a first token need one more step
                        self.llm.n_tokens = base
                        self.llm.eval(list(prefix))
                        evaluated += len(prefix)
                        dists[prefix] = self._last_logprobs()
                    total += float(dists[prefix][token])
                scores.append(total if seq else -1e9)
            self.llm.n_tokens = base  # the cache holds the prompt, ready for the next call
            index = _pick(np.array(scores), temperature, seed)
            return Choice(index=index, prompt_tokens=len(tokens), reused_tokens=reused,
                          generated_tokens=evaluated,
                          latency_ms=(time.perf_counter() - start) * 1000,
                          logprobs=tuple(scores))

    def _prefill(self, tokens: list[int]) -> int:
        """Evaluate `tokens`, reusing the cached prefix; returns how many were reused."""
        reused = _common_prefix(self.llm.input_ids[: self.llm.n_tokens], tokens)
        if reused >= len(tokens):
            reused = len(tokens) - 1  # re-run the last token to get its logits
        self.llm.n_tokens = reused
        self.llm.eval(tokens[reused:])
        return reused

    def _last_logprobs(self) -> np.ndarray:
        logits = np.ctypeslib.as_array(self.llm._ctx.get_logits_ith(-1),
                                       shape=(self.llm.n_vocab(),))
        return _log_softmax(logits.astype(np.float64))

