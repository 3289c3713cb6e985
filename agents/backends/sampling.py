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
    x = logits.astype(np.float64)
    if params.repeat_penalty != 1.0 and recent:
        seen = np.unique(np.asarray(recent[-params.repeat_last_n:], dtype=np.int64))
        vals = x[seen]
        x[seen] = np.where(vals > 0, vals / params.repeat_penalty, vals * params.repeat_penalty)
    if params.temperature <= 0:
        return int(np.argmax(x))
    k = min(params.top_k, x.size) if params.top_k > 0 else x.size
    top = np.argpartition(-x, k - 1)[:k]
    top = top[np.lexsort((top, -x[top]))]  # best first; ties by token id, so it is stable
    p = np.exp(x[top] - x[top[0]])
    p /= p.sum()
    keep = int(np.searchsorted(np.cumsum(p), params.top_p) + 1)  # smallest set reaching top_p
    keep = min(keep, top.size)
    keep = max(1, min(keep, int((p[:keep] >= params.min_p * p[0]).sum())))
    z = x[top[:keep]] / params.temperature
    q = np.exp(z - z.max())
    q /= q.sum()
    return int(top[rng.choice(keep, p=q)])
