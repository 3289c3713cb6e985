"""The batched backend's own token sampler: seeded, and it keeps only what the filters allow."""

from __future__ import annotations

from collections import Counter

import numpy as np

from mafia.agents.backends.sampling import SamplingParams, pick, sample_token


def _logits(values: dict[int, float], size: int = 1000) -> np.ndarray:
    x = np.full(size, -30.0, dtype=np.float32)
    for token, v in values.items():
        x[token] = v
    return x


def _draws(logits: np.ndarray, params: SamplingParams, n: int = 400, recent=()) -> Counter:
    rng = np.random.default_rng(0)
    return Counter(sample_token(logits, list(recent), params, rng) for _ in range(n))


def test_same_seed_same_tokens() -> None:
    x = np.random.default_rng(1).normal(size=5000).astype(np.float32)
    p = SamplingParams(temperature=0.8)
    a = [sample_token(x, [], p, np.random.default_rng(42)) for _ in range(5)]
    b = [sample_token(x, [], p, np.random.default_rng(42)) for _ in range(5)]
    assert a == b


def test_temperature_zero_is_the_best_token() -> None:
    assert sample_token(_logits({7: 5.0, 9: 4.9}), [], SamplingParams(temperature=0),
                        np.random.default_rng(0)) == 7


def test_min_p_drops_tokens_far_below_the_best() -> None:
    # p(9)/p(7) = e^-4 ~ 0.018 < min_p 0.05: token 9 can never be drawn
    seen = _draws(_logits({7: 5.0, 8: 4.5, 9: 1.0}), SamplingParams(temperature=1.0))
    assert set(seen) == {7, 8}


def test_top_k_keeps_the_k_best() -> None:
    x = _logits({i: 5.0 - 0.01 * i for i in range(10)})
    seen = _draws(x, SamplingParams(temperature=1.0, top_k=3, top_p=1.0, min_p=0.0))
    assert set(seen) == {0, 1, 2}


def test_top_p_keeps_the_smallest_set_reaching_p() -> None:
    # probabilities ~ 0.64, 0.24, 0.09, 0.03: top_p 0.8 needs the first two
    x = _logits({1: 3.0, 2: 2.0, 3: 1.0, 4: 0.0})
    seen = _draws(x, SamplingParams(temperature=1.0, top_p=0.8, min_p=0.0))
    assert set(seen) == {1, 2}


def test_repeat_penalty_lowers_recent_tokens() -> None:
    x = _logits({1: 2.0, 2: 2.0})
    plain = _draws(x, SamplingParams(temperature=1.0, repeat_penalty=1.0))
    penalised = _draws(x, SamplingParams(temperature=1.0, repeat_penalty=1.5), recent=[1])
    assert penalised[1] < plain[1]


def test_pick_follows_scores_and_seed() -> None:
    scores = np.log(np.array([0.7, 0.2, 0.1]))
    assert pick(scores, 0.0, 3) == 0
    counts = Counter(pick(scores, 1.0, seed) for seed in range(2000))
    assert 0.65 < counts[0] / 2000 < 0.75
    assert pick(scores, 1.0, 11) == pick(scores, 1.0, 11)


def test_flash_attention_only_for_wide_attention_heads() -> None:
    """The batched backend turns llama.cpp's CPU flash attention on for head size >= 128
    (Gemma 3: faster) and off for narrow heads (SmolLM2, 64: decode steps 2.3x slower)."""
    from types import SimpleNamespace

    from mafia.agents.backends.multi_seq import use_flash_attn

    gemma = {"general.architecture": "gemma3", "gemma3.attention.key_length": 256}
    smol = {"general.architecture": "llama", "llama.embedding_length": "576",
            "llama.attention.head_count": "9"}
    unknown = {"general.architecture": "mystery"}
    assert use_flash_attn(SimpleNamespace(metadata=gemma))
    assert not use_flash_attn(SimpleNamespace(metadata=smol))
    assert not use_flash_attn(SimpleNamespace(metadata=unknown))
