"""Prefix packing: many examples in one forward pass, each shared prefix computed once.

A game's prompts share most of their text: every seat reads the same rules and the same public
record, and the record only grows. Sorted, the examples form a tree of token sequences; a pack
lays that tree out as one sequence in which each token attends only to the tokens on its own
path (its "chain") and takes its position within that path. So every example sees exactly
the tokens and positions it would alone, and a shared prefix costs its tokens once, not once
per example (about 4-5x fewer tokens computed on `mafia train data` sets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Pack:
    ids: list[int] = field(default_factory=list)  # the laid-out tokens
    positions: list[int] = field(default_factory=list)  # each token's position in its chain
    chains: list[list[int]] = field(default_factory=list)  # per example: layout index per token
    # per example: (layout index whose logits predict, the target token) for its answer tokens
    answers: list[list[tuple[int, int]]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)  # per example: its loss weight
    covered: int = 0  # tokens the examples would have cost one by one

    def __len__(self) -> int:
        return len(self.ids)


def _common(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def build_packs(examples: list[tuple[list[int], list[int]]], cap: int,
                weights: list[float] | None = None) -> list[Pack]:
    """Lay examples (token ids, answer token positions) out into packs of at most `cap` tokens
    (an example longer than `cap` gets a pack of its own). Sorting puts every example next to
    the one it shares the longest prefix with, so each example adds only what is new.
    `weights` (default all 1) go with the examples into their packs."""
    packs: list[Pack] = []
    pack, prev_ids, prev_chain = Pack(), [], []  # type: ignore[var-annotated]
    weighted = zip(examples, weights if weights is not None else [1.0] * len(examples))
    for (ids, answer), weight in sorted(weighted, key=lambda e: e[0][0]):
        shared = _common(ids, prev_ids) if pack.ids else 0
        if pack.ids and len(pack) + len(ids) - shared > cap:
            packs.append(pack)
            pack, shared = Pack(), 0
        chain = prev_chain[:shared] + list(range(len(pack), len(pack) + len(ids) - shared))
        pack.ids.extend(ids[shared:])
        pack.positions.extend(range(shared, len(ids)))
        pack.chains.append(chain)
        pack.answers.append([(chain[p - 1], ids[p]) for p in answer])
        pack.weights.append(weight)
        pack.covered += len(ids)
        prev_ids, prev_chain = ids, chain
    if pack.ids:
        packs.append(pack)
    return packs


def masks(pack: Pack, sliding_window: int | None, device: str) -> dict[str, Any]:
    """Boolean attention masks (True = may attend), shaped (1, 1, L, L), for the full and the
    sliding-window layers: a token sees the tokens of its chain up to itself."""
    import torch

    n = len(pack)
    full = torch.zeros((n, n), dtype=torch.bool)
    for chain in pack.chains:
        c = torch.tensor(chain, dtype=torch.long)
        full[c.unsqueeze(1), c.unsqueeze(0)] |= torch.ones((len(c), len(c)),
                                                           dtype=torch.bool).tril()
    out = {"full_attention": full}
    if sliding_window:
        pos = torch.tensor(pack.positions)
        near = (pos.unsqueeze(1) - pos.unsqueeze(0)) < sliding_window
        out["sliding_attention"] = full & near
    return {k: v.to(device)[None, None] for k, v in out.items()}
