"""A model seat with the plain profile: its prompt holds only what the seat knows (see
agents/plain_prompt.py) and every answer is the model's own.

Choices are scored over the legal options by the backend (so they are always legal) and drawn
from the model's probabilities at a fixed temperature; no calibration, no forced openings, no
retries. Speech is free text up to the end of the line, cleaned by the engine.
"""

from __future__ import annotations

from typing import Any

from mafia.decisions import Answer, CallInfo, DayAction, Option, Request
from mafia.enums import DecisionKind

from mafia.agents.backends.base import Backend
from mafia.agents.llm_player import (
    CHOICE_TEMPERATURE, MOVE_TEMPERATURE, MOVES, SPEECH_STOP, SPEECH_TEMPERATURE, call_info,
    call_seed,
)
from mafia.agents.plain_prompt import PlainBook, PlainPrompt
from mafia.agents.prompting import option_label

# The plain prompt's token budget: older public chatter is left out beyond it (deaths and votes
# stay). Training examples are built with the same budget, so the student reads at play time
# what it was trained on; it also keeps each call's prompt short.
PLAIN_BUDGET = 1024


def speech_kind(request: Request, choice: Option | None) -> tuple[str, str | None] | None:
    """Which text a request asks for after its choice: (prompt kind, DM recipient), or None."""
    if request.kind in (DecisionKind.MAFIA_CHAT, DecisionKind.LAST_WORDS):
        return request.kind.value, None
    if isinstance(choice, DayAction) and choice.action == "say":
        return "speak", None
    if isinstance(choice, DayAction) and choice.action == "dm":
        return "speak", choice.to
    return None


class PlainPlayer:
    def __init__(self, backend: Backend, *, seed: int, seat: int, max_tokens: int = 40,
                 log_prompts: bool = False, book: PlainBook | None = None,
                 spec: str = "") -> None:
        self.backend = backend
        self.seed = seed
        self.seat = seat
        self.max_tokens = max_tokens
        self.log_prompts = log_prompts
        self.spec = spec
        self.calls = 0
        self.book = book or PlainBook()
        budget = max(256, min(PLAIN_BUDGET, backend.n_ctx - max_tokens - 16))
        self.prompt = PlainPrompt(self.book, count_tokens=backend.count_tokens,
                                  budget_tokens=budget)

    def describe(self) -> dict[str, Any]:
        return {"kind": "llm", "spec": self.spec, "profile": "plain",
                "prompt_hash": self.book.hash, "prompt_style": "completion",
                **self.backend.describe()}

    def _next_seed(self) -> int:
        seed = call_seed(self.seed, self.seat, self.calls)
        self.calls += 1
        return seed

    def _log(self, calls: list[CallInfo], purpose: str, result: Any, prompt: str) -> None:
        calls.append(call_info(purpose, result, prompt if self.log_prompts else None))

    async def act(self, request: Request) -> Answer:
        calls: list[CallInfo] = []
        obs = request.observation
        choice: Option | None = None
        if request.options:
            labels = [option_label(o) for o in request.options]
            prompt = self.prompt.build(obs, request.kind.value, rules=request.rules)
            temperature = MOVE_TEMPERATURE if request.kind in MOVES else CHOICE_TEMPERATURE
            result = await self.backend.choose(prompt, labels, seed=self._next_seed(),
                                               temperature=temperature)
            self._log(calls, "choice", result, prompt)
            if 0 <= result.index < len(request.options):
                choice = request.options[result.index]
        text = ""
        wanted = speech_kind(request, choice)
        if wanted is not None:
            prompt = self.prompt.build(obs, wanted[0], say_to=wanted[1], rules=request.rules)
            out = await self.backend.complete(prompt, seed=self._next_seed(),
                                              max_tokens=self.max_tokens, stop=SPEECH_STOP,
                                              temperature=SPEECH_TEMPERATURE)
            self._log(calls, "text", out, prompt)
            text = out.text.strip()
        return Answer(choice, text, tuple(calls))
