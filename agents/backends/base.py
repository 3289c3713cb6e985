"""The small interface every model backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    reused_tokens: int  # prompt tokens served from the seat's own KV cache
    generated_tokens: int
    latency_ms: float
    shared_tokens: int = 0  # prompt tokens copied from another seat's cache (batched backend)


@dataclass(frozen=True)
class Choice:
    index: int  # into the options given
    prompt_tokens: int
    reused_tokens: int
    generated_tokens: int
    latency_ms: float
    logprobs: tuple[float, ...] | None = None  # per option, when the backend scores
    shared_tokens: int = 0


class Backend(Protocol):
    """One seat's model. Calls are async; a backend never runs two calls at once."""

    chat_template: str | None  # None: plain completion prompts only
    n_ctx: int

    def describe(self) -> dict[str, Any]: ...

    def count_tokens(self, text: str) -> int: ...

    def reset(self) -> None:
        """Forget cached prompt state (a new game starts from an empty cache)."""
        ...

    async def complete(self, prompt: str, *, seed: int, max_tokens: int,
                       stop: Sequence[str], temperature: float) -> Completion:
        """Free text continuing `prompt`, sampled with `seed`, ending at a stop string."""
        ...

    async def choose(self, prompt: str, options: Sequence[str], *, seed: int,
                     temperature: float) -> Choice:
        """Pick one of `options` (texts that would continue `prompt`); always a valid index."""
        ...
