"""Choosing tokens and options from logits, in numpy, with an explicit seed.

The batched backend samples its own tokens (llama-cpp-python's sampler chain works on one
sequence of a `Llama`). The chain mirrors the one the simple backend asks llama.cpp for:
repeat penalty over the last 64 tokens generated in this call, top-k, top-p, min-p, then
temperature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SamplingParams:
    temperature: float
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    repeat_last_n: int = 64


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


def token_logprobs(logits: np.ndarray, tokens: Sequence[int]) -> np.ndarray:
    """log softmax(logits)[tokens], without a float64 copy of the whole vocabulary (Gemma's
    262k tokens made that 5 ms per scored node); the sum is accumulated in float64."""
    top = float(logits.max())
    lse = top + float(np.log(np.exp(logits - top).sum(dtype=np.float64)))
    return logits[np.asarray(tokens, dtype=np.int64)].astype(np.float64) - lse


def pick(scores: np.ndarray, temperature: float, seed: int) -> int:
    """One index drawn in proportion to exp(score / temperature); the best at temperature 0."""
    if temperature <= 0:
        return int(np.argmax(scores))
    z = scores / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    return int(np.random.default_rng(seed).choice(len(p), p=p))


def sample_token(logits: np.ndarray, recent: Sequence[int], params: SamplingParams,
                 rng: np.random.Generator) -> int:
    """One token id from raw logits (float32, the whole vocabulary)."""
    seen = (np.unique(np.asarray(recent[-params.repeat_last_n:], dtype=np.int64))
            if params.repeat_penalty != 1.0 and recent else np.empty(0, dtype=np.int64))
    if params.temperature <= 0:
        x = logits.astype(np.float64)
        _penalise(x, seen, params.repeat_penalty)
        return int(np.argmax(x))
    k = min(params.top_k, logits.size) if params.top_k > 0 else logits.size
    # The penalty only lowers logits, so the top k after it are among the top k + len(seen)
    # before it: select those on the raw float32 logits (a 262k-token vocabulary made the full
    # float64 copy and sort the slowest part of a Gemma decode step), then work in float64.
    m = min(k + seen.size, logits.size)
    cand = np.argpartition(logits, logits.size - m)[logits.size - m:] if m < logits.size \
        else np.arange(logits.size)
    x = logits[cand].astype(np.float64)
    _penalise(x, np.flatnonzero(np.isin(cand, seen)), params.repeat_penalty)
    order = np.lexsort((cand, -x))[:k]  # best first; ties by token id, so it is stable
    top, x = cand[order], x[order]
    p = np.exp(x - x[0])
    p /= p.sum()
    keep = int(np.searchsorted(np.cumsum(p), params.top_p) + 1)  # smallest set reaching top_p
    keep = min(keep, top.size)
    keep = max(1, min(keep, int((p[:keep] >= params.min_p * p[0]).sum())))
    z = x[:keep] / params.temperature
    q = np.exp(z - z.max())
    q /= q.sum()
    return int(top[rng.choice(keep, p=q)])


def _penalise(x: np.ndarray, at: np.ndarray, penalty: float) -> None:
    """llama.cpp's repeat penalty on x[at] (positive logits divided, negative multiplied)."""
    if at.size and penalty != 1.0:
        vals = x[at]
        x[at] = np.where(vals > 0, vals / penalty, vals * penalty)
