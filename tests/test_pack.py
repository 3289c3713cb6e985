"""Prefix packing for training: each example sees exactly its own tokens at its own positions,
shared prefixes are laid out once, and the packed loss equals the examples' losses one by one
on the real model (including a prompt past Gemma 3's 512-token sliding window)."""

from __future__ import annotations

import random

import pytest

from mafia.train.pack import build_packs, masks


def _examples(rng: random.Random, n: int) -> list[tuple[list[int], list[int]]]:
    """Token sequences that share prefixes the way a game's prompts do."""
    stem = [1] + [rng.randrange(2, 50) for _ in range(20)]
    out = []
    for _ in range(n):
        ids = stem[: rng.randrange(1, len(stem) + 1)] + [rng.randrange(2, 50)
                                                         for _ in range(rng.randrange(1, 12))]
        answer = list(range(max(1, len(ids) - rng.randrange(1, 4)), len(ids)))
        out.append((ids, answer))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_each_example_reads_back_exactly_from_its_chain(seed: int) -> None:
    rng = random.Random(seed)
    examples = _examples(rng, 30)
    cap = rng.choice([8, 40, 1000])
    weights = [rng.choice([0.5, 1.0, 3.0]) for _ in examples]
    packs = build_packs(examples, cap, weights)
    seen = []
    for pack in packs:
        assert len(pack) <= cap or len(pack.chains) == 1
        assert len(pack.positions) == len(pack.ids)
        assert len(pack.weights) == len(pack.chains)
        for chain, answers, weight in zip(pack.chains, pack.answers, pack.weights):
            ids = [pack.ids[i] for i in chain]
            assert [pack.positions[i] for i in chain] == list(range(len(chain)))
            assert chain == sorted(chain)  # a token's context lies before it
            # each answer token is predicted from the token just before it on the chain
            seen.append((ids, [ids[chain.index(at) + 1] for at, _ in answers], weight))
    # every example keeps its own weight through the sorting
    expected = sorted((ids, [ids[p] for p in ans], w) for (ids, ans), w in zip(examples, weights))
    assert sorted(seen) == expected
    assert sum(len(p) for p in packs) <= sum(len(ids) for ids, _ in examples)
    assert sum(p.covered for p in packs) == sum(len(ids) for ids, _ in examples)


def test_shared_prefixes_are_laid_out_once_and_masks_follow_chains() -> None:
    a = ([1, 5, 6, 7, 8], [4])
    b = ([1, 5, 6, 9], [3])
    (pack,) = build_packs([b, a], 100)
    assert pack.ids == [1, 5, 6, 7, 8, 9]
    assert pack.positions == [0, 1, 2, 3, 4, 3]
    assert pack.chains == [[0, 1, 2, 3, 4], [0, 1, 2, 5]]
    assert pack.answers == [[(3, 8)], [(2, 9)]]
    m = masks(pack, sliding_window=2, device="cpu")
    full, near = m["full_attention"][0, 0], m["sliding_attention"][0, 0]
    assert full[5].tolist() == [True, True, True, False, False, True]  # not b's sibling tokens
    assert full[4].tolist() == [True, True, True, True, True, False]
    assert near[5].tolist() == [False, False, True, False, False, True]  # positions 2 and 3


@pytest.mark.model
def test_packed_loss_equals_the_examples_one_by_one() -> None:
    torch = pytest.importorskip("torch")
    from mafia.train.fit import load_base, pack_loss

    from mafia.agents.registry import resolve

    model = resolve("gemma3-270m")
    rng = random.Random(3)
    stem = [2] + [rng.randrange(300, 20000) for _ in range(480)]
    examples = [(stem + [rng.randrange(300, 20000) for _ in range(k)], [len(stem) + k - 1])
                for k in (3, 40, 60)] + [(stem[:100] + [7, 8, 9], [101, 102])]
    peft_model = load_base(model, "cpu", 4)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02, generator=torch.Generator().manual_seed(0))
        causal = peft_model.base_model.model
        alone = []
        for ids, answer in examples:
            logits = causal(input_ids=torch.tensor([ids])).logits[0].float()
            target = torch.tensor([ids[p] for p in answer])
            alone.append(torch.nn.functional.cross_entropy(
                logits[[p - 1 for p in answer]], target).item())
        (pack,) = build_packs(examples, 4096)
        assert len(pack) < sum(len(ids) for ids, _ in examples) / 2
        packed = pack_loss(peft_model, pack, "cpu").item()
        weights = [2.0, 0.0, 1.0, 0.5]  # `--weight`: each example's loss scaled by its own
        (heavy,) = build_packs(examples, 4096, weights)
        weighted = pack_loss(peft_model, heavy, "cpu").item()
    assert packed == pytest.approx(sum(alone) / len(alone), rel=0.02)
    expected = sum(w * x for w, x in zip(weights, alone)) / len(alone)
    assert weighted == pytest.approx(expected, rel=0.02)
