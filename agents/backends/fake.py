"""A scripted backend for tests: answers from queues, raises when a queue runs out."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from mafia.agents.backends.base import Choice, Completion


class ScriptExhausted(RuntimeError):
    pass


class ScriptedBackend:
    """`texts` feed complete(); `choices` feed choose() and may be an index or an option text
    (an unknown text or a bad index is passed through as is, so tests can see it refused)."""

    def __init__(self, texts: Iterable[str] = (), choices: Iterable[int | str] = (),
                 chat_template: str | None = None, n_ctx: int = 4096) -> None:
        self.texts = deque(texts)
        self.choices = deque(choices)
        self.chat_template = chat_template
        self.n_ctx = n_ctx
        self.prompts: list[str] = []

    def describe(self) -> dict[str, Any]:
        return {"model": "scripted", "path": None, "sha256": None, "quantization": None}

    def reset(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    async def complete(self, prompt: str, *, seed: int, max_tokens: int,
                       stop: Sequence[str], temperature: float) -> Completion:
        self.prompts.append(prompt)
        if not self.texts:
            raise ScriptExhausted("scripted backend has no more texts")
        return Completion(self.texts.popleft(), self.count_tokens(prompt), 0, 1, 0.0)

    async def choose(self, prompt: str, options: Sequence[str], *, seed: int,
                     temperature: float) -> Choice:
        self.prompts.append(prompt)
        if not self.choices:
            raise ScriptExhausted("scripted backend has no more choices")
        pick = self.choices.popleft()
        if isinstance(pick, str):
            stripped = [o.strip() for o in options]
            pick = stripped.index(pick) if pick in stripped else -1
        return Choice(pick, self.count_tokens(prompt), 0, 1, 0.0)
