"""How closely a model follows the teacher's choices on a held-out dataset, through llama.cpp
as it plays: for each choice example, whether the teacher's option is the model's most likely
one, and its log-probability. Minutes, not the hours a sweep of games takes, so it is the quick
check between training runs: it says what was learned, not how well the model plays (that is
`mafia sweep` and `mafia report`). Speech is left to the report's figures."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class KindScore:
    n: int = 0
    top1: int = 0  # the teacher's option was the model's most likely one
    chance: float = 0.0  # sum of 1 / number of options: what a uniform guess gets
    logprob: float = 0.0  # sum of the teacher's option log-probabilities (normalised)

    def as_json(self) -> dict[str, Any]:
        n = max(1, self.n)
        return {"n": self.n, "top1": self.top1 / n, "chance": self.chance / n,
                "mean_logprob": self.logprob / n}


def _normalised(logprobs: list[float]) -> list[float]:
    """Option scores as log-probabilities over the options (they sum to one)."""
    top = max(logprobs)
    total = top + math.log(sum(math.exp(x - top) for x in logprobs))
    return [x - total for x in logprobs]


def score_choices(backend: Any, examples: list[dict[str, Any]],
                  on_example: Callable[[int], None] | None = None) -> dict[str, KindScore]:
    """Per example kind, over the examples that are choices. They run sorted by prompt, so
    the backend's cache reuses the prefix consecutive ones share."""
    choices = sorted((e for e in examples if e.get("options")), key=lambda e: e["prompt"])
    scores: dict[str, KindScore] = {}
    for i, ex in enumerate(choices):
        options = ex["options"]
        result = asyncio.run(backend.choose(ex["prompt"], options, seed=0, temperature=1.0))
        logprobs = _normalised(list(result.logprobs or [0.0] * len(options)))
        want = options.index(ex["target"])
        s = scores.setdefault(ex["kind"], KindScore())
        s.n += 1
        s.top1 += int(max(range(len(logprobs)), key=logprobs.__getitem__) == want)
        s.chance += 1 / len(options)
        s.logprob += logprobs[want]
        if on_example is not None:
            on_example(i + 1)
    return scores
