"""A player whose every decision comes from a language model behind a Backend.

Choices (vote, kill, protect, investigate, speak-or-wait, whom to DM) are picked among the
legal options by the backend's `choose`, so they are legal by construction; speech is free
text with a token limit and a newline stop, cleaned by the engine before it enters the game.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from mafia.discussion.bidding import BIDS
from mafia.decisions import Answer, CallInfo, DayAction, Option, Request
from mafia.enums import DecisionKind
from mafia.events import LastWords, Message

from mafia.agents.backends.base import Backend
from mafia.agents.prompting import PromptBook, SeatPrompt, option_label

# Choices are drawn from the model's own option probabilities sharpened by a temperature:
# at 1.0 a 270M model's votes were close to uniform noise (a detective's vote for the mafia
# it found: P 0.52 at 0.5, rebuilt from 30 games; with calibration and its prefix, 0.73 at
# 0.5 and 0.81 at 0.3). Whether to speak stays at 1.0 so
# that seats keep a mix of speaking, waiting and DMs.
CHOICE_TEMPERATURE = 0.3
MOVE_TEMPERATURE = 1.0
SPEECH_TEMPERATURE = 0.8
SPEECH_STOP = ("\n",)
# A message that repeats one the seat has already seen word for word is drawn again with the
# next seed, at most this many times; if it still repeats, the seat stays silent.
REPEAT_RETRIES = 2
# Choices among players' names are calibrated (contextual calibration): each name's
# log-probability under the seat's content-free prompt of that decision is subtracted before
# drawing. Gemma prefers some names whatever happened (in seat order, Alice opened 65 of 127
# public messages of 6 games; Grace 1). Which decisions, and what each one chooses among
# (votes and the detective's checks have a baseline of their own, on the game's prompt:
# see `_baseline`):
CALIBRATED = {
    "address": "others", DecisionKind.KILL.value: "town",
    DecisionKind.PROTECT.value: "everyone",
    DecisionKind.BID.value: "bids",  # bidding protocol only: numbers have their biases too
}
# Choices calibrated against the same prompt asking whom the seat "mentions" (`_baseline`).
BASELINED = frozenset({DecisionKind.VOTE, DecisionKind.INVESTIGATE})
# Decisions that are moves rather than judgements: drawn at MOVE_TEMPERATURE.
MOVES = frozenset({DecisionKind.DAY_ACTION, DecisionKind.BID})


def call_seed(game_seed: int, seat: int, call: int) -> int:
    """The sampling seed of one model call: a function of game seed, seat and call index."""
    digest = hashlib.sha256(f"{game_seed}:{seat}:{call}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def call_info(purpose: str, result: Any, prompt: str | None) -> CallInfo:
    """A model call's record for the transcript (the prompt only with --log-prompts)."""
    return CallInfo(purpose, result.prompt_tokens, result.reused_tokens,  # type: ignore[arg-type]
                    result.generated_tokens, result.latency_ms, prompt, result.shared_tokens)


class LLMPlayer:
    def __init__(self, backend: Backend, *, seed: int, seat: int, style: str,
                 max_tokens: int = 40, log_prompts: bool = False,
                 book: PromptBook | None = None, spec: str = "") -> None:
        self.backend = backend
        self.seed = seed
        self.seat = seat
        self.style = style
        self.max_tokens = max_tokens
        self.log_prompts = log_prompts
        self.spec = spec
        self.calls = 0
        self.calibration: dict[str, dict[str, float]] | None = None  # kind -> label -> logprob
        # The latest choice's labels, the scores it was drawn from and the temperature
        # (read by probes: the probability the model put on each option).
        self.last_choice: tuple[Sequence[str], Sequence[float], float] | None = None
        # The name order of the latest choice's state block: the address and the message
        # after a discussion move reuse it, so the cached prompt prefix runs to the question.
        self.move_order = 0
        # Leave room for the answer; the prompt is shortened deliberately beyond this.
        budget = max(256, backend.n_ctx - max_tokens - 16)
        self.prompt = SeatPrompt(book or PromptBook(), style=style,
                                 chat_template=backend.chat_template,
                                 count_tokens=backend.count_tokens, budget_tokens=budget)

    def describe(self) -> dict[str, Any]:
        return {"kind": "llm", "spec": self.spec, "profile": "assisted",
                "prompt_hash": self.prompt.book.hash, "prompt_style": self.style,
                **self.backend.describe()}

    def _next_seed(self) -> int:
        seed = call_seed(self.seed, self.seat, self.calls)
        self.calls += 1
        return seed

    async def act(self, request: Request) -> Answer:
        calls: list[CallInfo] = []
        choice: Option | None = None
        if self.calibration is None:
            await self._calibrate(request, calls)
        if request.options:
            choice = await self._choose(request, calls)
        text = ""
        if request.kind is DecisionKind.MAFIA_CHAT:
            text = await self._speak(request, request.kind.value, None, calls,
                                     opening=self.prompt.book.opening)
        elif request.kind is DecisionKind.LAST_WORDS:
            text = await self._speak(request, request.kind.value, None, calls)
        elif isinstance(choice, DayAction) and choice.action == "say":
            about = await self._address(request, calls, self.move_order)
            checked = about in request.observation.investigations()
            opening = self.prompt.book.about.render(name=about, checked=checked).strip()
            text = await self._speak(request, "speak", None, calls, opening=opening,
                                     order_seed=self.move_order)
        elif isinstance(choice, DayAction) and choice.action == "dm":
            text = await self._speak(request, "speak", choice.to, calls,
                                     order_seed=self.move_order)
        return Answer(choice, text, tuple(calls))

    def _log_call(self, calls: list[CallInfo], purpose: str, result: Any, prompt: str) -> None:
        calls.append(call_info(purpose, result, prompt if self.log_prompts else None))

    async def _choose(self, request: Request, calls: list[CallInfo]) -> Option | None:
        labels = [option_label(o) for o in request.options]
        seed = self._next_seed()
        self.move_order = seed
        prompt = self.prompt.build(request.observation, request.kind.value, options=labels,
                                   order_seed=seed, rules=request.rules)
        temperature = MOVE_TEMPERATURE if request.kind in MOVES else CHOICE_TEMPERATURE
        result = await self.backend.choose(prompt, labels, seed=seed, temperature=temperature)
        self._log_call(calls, "choice", result, prompt)
        table = None
        if request.kind in BASELINED and result.logprobs is not None:
            table = await self._baseline(request, labels, seed, calls)
        index = self._calibrated(request.kind.value, labels, result, seed, temperature, table)
        if 0 <= index < len(request.options):
            return request.options[index]
        return None  # refused by the engine as an invalid action, with a seeded fallback

    async def _calibrate(self, request: Request, calls: list[CallInfo]) -> None:
        """At the seat's first request of the game, score every name choice it may face on
        its content-free prompt (the shared header is cached, so each costs its tail)."""
        self.calibration = {}
        if not getattr(self.backend, "scores_options", False):
            return  # a backend that does not return option log-probabilities
        obs = request.observation
        me = request.player
        wanted = {"others": [p for p in obs.seats if p != me],
                  "everyone": list(obs.seats),
                  "town": [p for p in obs.seats if p != me and p not in obs.teammates],
                  "bids": list(BIDS)}
        kinds = [k for k in CALIBRATED if (k not in ROLE_KINDS
                                           or ROLE_KINDS[k] == obs.role.spec.night)
                 and (k != DecisionKind.BID.value or request.rules.discussion == "bidding")]
        # One name order for all of the seat's content-free prompts: they then share their
        # state block, and each after the first costs only its question.
        order: int | None = None
        for kind in kinds:
            labels = [f" {p}" for p in wanted[CALIBRATED[kind]]]
            seed = self._next_seed()
            order = seed if order is None else order
            prompt = self.prompt.content_free(obs, kind, labels, order_seed=order,
                                              rules=request.rules)
            result = await self.backend.choose(prompt, labels, seed=seed, temperature=1.0)
            self._log_call(calls, "choice", result, prompt)
            if result.logprobs is not None:
                self.calibration[kind] = dict(zip(labels, result.logprobs))

    async def _baseline(self, request: Request, labels: Sequence[str], seed: int,
                        calls: list[CallInfo]) -> dict[str, float] | None:
        """A vote's or a check's calibration table: the same prompt (game log, state block,
        name order) with a neutral question, "NAME mentions". Subtracting it keeps what
        "votes to eliminate the mafia player" adds to a name, not how often the log repeats
        that name: the mafia steer talk onto town players, and Gemma votes for the names it
        reads. A detective's check: its own checks, which the baseline's state block lists
        (the check's does not), are what it would otherwise check again."""
        prompt = self.prompt.build(request.observation, "mentions", options=labels,
                                   order_seed=seed, rules=request.rules)
        result = await self.backend.choose(prompt, labels, seed=seed, temperature=1.0)
        self._log_call(calls, "choice", result, prompt)
        if result.logprobs is None or len(result.logprobs) != len(labels):
            return None
        return dict(zip(labels, result.logprobs))

    def _calibrated(self, kind: str, labels: Sequence[str], result: Any, seed: int,
                    temperature: float, table: dict[str, float] | None = None) -> int:
        """The option drawn from the model's calibrated probabilities (log-probability less
        the baseline one: `table`, else the content-free prompt's), with the call's seed;
        the backend's own draw otherwise."""
        table = table or (self.calibration or {}).get(kind)
        if result.logprobs is None or len(result.logprobs) != len(labels):
            return int(result.index)
        if not table:
            self.last_choice = (labels, result.logprobs, temperature)
            return int(result.index)
        scores = [lp - table.get(label, 0.0) for lp, label in zip(result.logprobs, labels)]
        self.last_choice = (labels, scores, temperature)
        return draw(scores, temperature, seed)

    async def _address(self, request: Request, calls: list[CallInfo], order: int) -> str:
        """Whom a public message is about: the model picks among the other living players,
        and the message opens with that name (so it addresses someone). `order`: the move's
        name order, so the state block is the move prompt's and only the question is new."""
        obs = request.observation
        names = [p for p in obs.alive if p != request.player]
        if not names:
            return ""
        labels = [f" {n}" for n in names]
        seed = self._next_seed()
        prompt = self.prompt.build(obs, "address", options=labels, order_seed=order,
                                   rules=request.rules)
        result = await self.backend.choose(prompt, labels, seed=seed,
                                           temperature=CHOICE_TEMPERATURE)
        self._log_call(calls, "choice", result, prompt)
        index = self._calibrated("address", labels, result, seed, CHOICE_TEMPERATURE)
        if not 0 <= index < len(names):  # as for any refused pick: the engine falls back
            raise ValueError(f"model picked option {index} of {len(names)} to address")
        return names[index]

    async def _speak(self, request: Request, kind: str, to: str | None,
                     calls: list[CallInfo], opening: str = "", order_seed: int = 0) -> str:
        prompt = self.prompt.build(request.observation, kind, say_to=to, opening=opening,
                                   order_seed=order_seed, rules=request.rules)
        heard = _heard(request.observation.events)
        for _ in range(1 + REPEAT_RETRIES):
            out = await self.backend.complete(prompt, seed=self._next_seed(),
                                              max_tokens=self.max_tokens, stop=SPEECH_STOP,
                                              temperature=SPEECH_TEMPERATURE)
            self._log_call(calls, "text", out, prompt)
            if not out.text.strip():
                return ""  # the model ended the line at once: silence, not a bare opening
            space = " " if opening and out.text[:1].isalnum() else ""
            text = f"{opening}{space}{out.text}"
            if normalise(text) not in heard:
                return text
        return ""


# A night decision's calibration is computed only for a seat whose role has that power.
ROLE_KINDS = {DecisionKind.KILL.value: "team_kill", DecisionKind.PROTECT.value: "protect",
              DecisionKind.INVESTIGATE.value: "investigate", DecisionKind.SHOOT.value: "shoot"}


def draw(scores: Sequence[float], temperature: float, seed: int) -> int:
    """One index drawn in proportion to exp(score / temperature) (temperature 0: the best),
    from a generator seeded by the call's seed."""
    s = np.asarray(scores, dtype=np.float64)
    if temperature <= 0:
        return int(np.argmax(s))
    p = np.exp((s - s.max()) / temperature)
    cumulative = np.cumsum(p / p.sum())
    return int(min(np.searchsorted(cumulative, random.Random(seed).random(), side="right"),
                   len(s) - 1))


def normalise(text: str) -> str:
    """A message as compared for word-for-word repeats: lower case, single spaces, no
    surrounding punctuation or quotes."""
    return " ".join(text.lower().split()).strip(" .,!?;:'\"()[]-")


def _heard(events: Sequence[Any]) -> set[str]:
    """Everything said that the seat has seen (messages and last words), normalised."""
    return {normalise(e.text) for e in events
            if isinstance(e, (Message, LastWords)) and e.text}
