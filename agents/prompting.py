"""Building each seat's prompt from its observation, with the templates in prompts/.

Layout, so llama.cpp can reuse the cached prefix of a seat's previous call:
    header (rules, identity)      fixed for the whole game
    game log                      grows at the end only
    state block + question        the only part that changes every call
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mafia.config import Rules
from mafia.decisions import ABSTAIN, DayAction, Option
from mafia.claims import detect_claims, detect_findings
from mafia.enums import Channel, Phase, Role, Team
from mafia.events import BaseEvent, Message, VoteCast
from mafia.observation import Observation
from mafia.agents.role_text import identity, rule_lines

# Chat-template markers a player could type to break out of its turn; shown defused.
_MARKERS = ("<|", "|>", "<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>", "</s>", "<s>")
_ROLE_NAMES = frozenset(r.value for r in Role)
# Event kinds kept when older days are summarised to fit the context window.
_ESSENTIAL = frozenset({"phase_started", "player_died", "nobody_died", "vote_result",
                        "investigation_result", "kill_decided"})


def _defuse(text: str) -> str:
    for marker in _MARKERS:
        text = text.replace(marker, marker.replace("<", "‹").replace(">", "›"))
    return text


class PromptBook:
    """The templates, loaded once."""

    def __init__(self, directory: str | Path | None = None) -> None:
        """`directory`: another copy of prompts/ (e.g. a variant to compare with a probe)."""
        root = str(directory) if directory is not None else str(files("mafia.prompts"))
        self.hash = templates_hash(Path(root), "*.j2")
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(root),
                                 autoescape=False, keep_trailing_newline=False,
                                 undefined=jinja2.StrictUndefined)
        self.header = env.get_template("header.j2")
        self.identity = env.get_template("identity.j2")
        self.event = env.get_template("event.j2")
        self.state = env.get_template("state.j2")
        self.decision = env.get_template("decision.j2")
        self.chat_user = env.get_template("chat_user.j2")
        self.instruction = env.get_template("instructions.j2")
        self.example = env.get_template("example.j2").render().strip()
        self.opening = env.get_template("opening.j2").render().strip()
        self.about = env.get_template("about.j2")


def templates_hash(root: Path, pattern: str) -> str:
    """A short sha256 over the names and text of a profile's templates (recorded in the
    transcript header, so a result says which prompts produced it)."""
    digest = hashlib.sha256()
    for path in sorted(root.glob(pattern)):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@dataclass
class _Line:
    day: int
    essential: bool
    text: str
    said: bool = False  # a message or last words (the latest one is never dropped)


def option_label(option: Option) -> str:
    """How an option is written after the question (leading space: it follows a colon)."""
    if option == ABSTAIN:
        return " nobody"
    if isinstance(option, DayAction):
        return {"wait": " wait", "say": " speak"}.get(option.action, f" dm {option.to}")
    return f" {option}"


class SeatPrompt:
    """One seat's growing prompt. Not shared between seats."""

    def __init__(
        self,
        book: PromptBook,
        *,
        style: str,
        chat_template: str | None,
        count_tokens: Callable[[str], int],
        budget_tokens: int,
    ) -> None:
        self.book = book
        self.style = style
        self.chat = _compile_chat_template(chat_template) if style == "chat" else None
        self.count_tokens = count_tokens
        self.budget = budget_tokens
        self.lines: list[_Line] = []
        self.seen = 0  # observation events already turned into lines
        self.header: str | None = None
        self._header_facts: dict[str, Any] = {}
        self.example = True  # the example game is in the header (dropped first when short)
        # Shortening, when a prompt would overflow the context (each step is sticky, so the
        # prompt keeps growing at the end afterwards): 0. the example game leaves the header;
        self.summarised_before = 0  # 1. chatter of days before this is left out
        self.dropped_chatter = 0  # 2. then the oldest remaining chatter lines (never the last)
        self.dropped_essential = 0  # 3. last resort: the oldest essential lines

    def _absorb(self, obs: Observation, rules: Rules) -> None:
        if self.header is None:
            self._header_facts = dict(
                seats=obs.seats, me=obs.player, counts=role_counts(rules),
                role_rules=rule_lines(rules),
                has={r.value: bool(n) for r, n in rules.roles.items()},
                identity=self.book.identity.render(
                    role=obs.role.value, teammates=obs.teammates,
                    described=identity(obs.role, teammates=obs.teammates)))
            self.header = self.book.header.render(**self._header_facts,
                                                  example=self.book.example)
        for event in obs.events[self.seen:]:
            text = self.book.event.render(e=_view(event)).strip()
            if text:
                self.lines.append(_Line(event.day, event.kind in _ESSENTIAL, _defuse(text),
                                        event.kind in ("message", "last_words")))
        self.seen = len(obs.events)

    def _chatter(self) -> int:
        return sum(1 for ln in self.lines if not ln.essential and ln.day >= self.summarised_before)

    def _log(self) -> str:
        kept: list[str] = []
        chatter = essential = 0
        said = [i for i, ln in enumerate(self.lines) if ln.said]
        latest = said[-1] if said else -1  # what was said last stays, whatever is dropped
        for i, ln in enumerate(self.lines):
            if ln.essential:
                essential += 1
                if essential > self.dropped_essential:
                    kept.append(ln.text)
            elif i == latest and ln.day >= self.summarised_before:
                kept.append(ln.text)
            elif ln.day >= self.summarised_before:
                chatter += 1
                if chatter > self.dropped_chatter:
                    kept.append(ln.text)
        return "\n".join(kept)

    def build(self, obs: Observation, kind: str, say_to: str | None = None,
              options: Sequence[str] = (), opening: str = "", order_seed: int = 0, *,
              rules: Rules) -> str:
        """The full prompt for one decision, shortened deliberately if it would not fit.
        `opening` starts the answer (speech only): the model continues after it.
        `order_seed` shuffles the lists of names in the state block (see state_facts)."""
        self._absorb(obs, rules)
        facts = state_facts(obs, order_seed, kind)
        prompt = self._render(obs, kind, say_to, options, opening, facts)
        while self.count_tokens(prompt) > self.budget:
            chatter = self._chatter()
            essential = sum(1 for ln in self.lines if ln.essential)
            if self.example:  # the example game goes first: the real game matters more
                self.example = False
                self.header = self.book.header.render(**self._header_facts, example="")
            elif self.summarised_before < obs.day:
                self.summarised_before += 1  # summarise one more old day (never today)
                self.dropped_chatter = 0
            elif self.dropped_chatter < chatter - 1:
                self.dropped_chatter = min(chatter - 1,
                                           self.dropped_chatter + max(1, chatter // 4))
            elif self.dropped_essential < essential - 3:
                self.dropped_essential += max(1, essential // 8)
            else:
                break
            prompt = self._render(obs, kind, say_to, options, opening, facts)
        return prompt

    def content_free(self, obs: Observation, kind: str, options: Sequence[str],
                     order_seed: int = 0, *, rules: Rules) -> str:
        """The prompt of a decision with no game in it: the header, then a state block that
        knows nothing yet and the question with every option listed. What the model prefers
        here is its bias (names, list positions), which calibration takes out."""
        self._absorb(obs, rules)
        # No list of town players for the mafia either: what follows from knowledge must not
        # be divided out again (with the list, calibration raised a partner's vote share).
        facts = {**state_facts(obs, order_seed, kind), "alive": _shuffled(obs.seats, order_seed),
                 "revealed": {}, "checked": {}, "found": [], "accused": [], "vouched": {},
                 "suspects": [], "day": 1,
                 # one phase (the seat's first request's) for all of a seat's content-free
                 # prompts, so that with one name order they share the whole state block
                 "targets": [], "phase": obs.phase.value}
        return self._render(obs, kind, None, options, "", facts, log="")

    def _render(self, obs: Observation, kind: str, say_to: str | None,
                options: Sequence[str], opening: str, facts: dict[str, Any],
                log: str | None = None) -> str:
        state = self.book.state.render(**facts)
        question = self.book.decision.render(kind=kind, me=obs.player, say_to=say_to,
                                             options=[o.strip() for o in options],
                                             opening=opening, role=obs.role.value, side=obs.role.team.value,
                                             found=facts["found"])
        log = self._log() if log is None else log
        if self.chat is None:
            return f"{self.header}\n\n{log}\n{state}\n{question}"
        user = self.book.chat_user.render(log=log, state=state,
                                          instruction=self.book.instruction.render(kind=kind))
        messages = [{"role": "system", "content": self.header},
                    {"role": "user", "content": user}]
        return self.chat.render(messages=messages, add_generation_prompt=True,
                                bos_token="", eos_token="") + question


def state_facts(obs: Observation, order_seed: int = 0, kind: str = "vote") -> dict[str, Any]:
    """What the state block says: the seat's knowledge and what follows from it. Only facts
    the seat has (its role, teammates, findings, revealed deaths; for a town vote without a
    list of suspects, today's public accusations as the claim detector reads them); it never
    ranks or removes options.

    The names of living players are listed in an order shuffled per call (by `order_seed`,
    the call's own seed): Gemma picks the first name of a list far more often than any
    other, so in seat order Alice drew the votes and the accusations of whole tables."""
    alive = set(obs.alive)
    shuffled = _shuffled(obs.alive, order_seed)
    checked = obs.investigations()
    accused: list[tuple[str, str]] = []  # read for votes only (the claim detector costs)
    for e in obs.events if kind == "vote" else ():
        if (isinstance(e, Message) and e.channel is Channel.PUBLIC and e.day == obs.day
                and e.phase is Phase.DAY):
            for claim in detect_claims(e.text, e.sender, obs.seats):
                if claim.kind == "accuse" and claim.subject in alive:
                    accused.append((e.sender, claim.subject))
    found = [p for p, what in checked.items() if p in alive and what == "mafia"]
    vouched = voted_out_mafia(obs) if kind == "vote" else {}
    suspects = _suspects(obs, shuffled, checked, vouched) if kind == "vote" and not found else []
    mafia_side = obs.role.team is Team.MAFIA
    if suspects or mafia_side:
        accused = []  # the accusers' names, read after the list of whom to vote, drew votes
    return dict(
        kind=kind, phase=obs.phase.value, day=obs.day, alive=shuffled, me=obs.player,
        role=obs.role.value, side=obs.role.team.value, teammates=obs.teammates,
        revealed=obs.revealed(),
        targets=[p for p in shuffled if p != obs.player and p not in obs.teammates]
        if mafia_side else [],
        checked=checked,
        found=found, accused=accused[-4:], vouched=vouched, suspects=suspects,
        unchecked=[p for p in shuffled if p != obs.player and p not in checked]
        if kind == "investigate" and checked else [])


def _suspects(obs: Observation, shuffled: Sequence[str], checked: dict[str, str],
              vouched: dict[str, list[str]]) -> list[str]:
    """A town seat's vote: the living others not shown to be town (by its own checks, or by
    having voted for a revealed mafia), when something did show that; else none. Naming the
    town players instead made Gemma vote for them more: it copies the names it reads last.
    A player another seat claimed in public today to have checked and found mafia ("I
    checked Carol: mafia") is the suspect instead, for seats other than the detective (who
    knows such a claim by anyone else is a lie)."""
    if obs.role.team is Team.MAFIA:
        return []
    town = {p for voters in vouched.values() for p in voters}
    town |= {p for p, what in checked.items() if what == "town"}
    if obs.role is not Role.DETECTIVE:
        claimed = set(claimed_mafia(obs)) - town
        if claimed:
            return [p for p in shuffled if p in claimed]
    rest = [p for p in shuffled if p != obs.player and p not in town]
    return rest if rest and len(rest) < len(obs.alive) - 1 else []


def claimed_mafia(obs: Observation) -> list[str]:
    """Living others that a seat claimed in public today to have checked and found mafia, as
    the claim detector reads a finding. Mafia may fake such a claim; the model seats of this
    project are not prompted to."""
    out: list[str] = []
    for e in obs.events:
        if (isinstance(e, Message) and e.channel is Channel.PUBLIC and e.day == obs.day
                and e.phase is Phase.DAY and e.sender != obs.player):
            for claim in detect_findings(e.text, e.sender, obs.seats):
                if (claim.value == "mafia" and claim.subject in obs.alive
                        and claim.subject != obs.player and claim.subject not in out):
                    out.append(claim.subject)
    return out


def voted_out_mafia(obs: Observation) -> dict[str, list[str]]:
    """Revealed mafia -> the living others who voted for them on any day (public votes the
    seat saw). The mafia all but never vote for a teammate (0.4% of 285 mafia votes in the
    100-game sweep), so these voters are likely town: the consequence the state block spells
    out, as the names it leaves to suspect."""
    voters: dict[str, list[str]] = {}  # target -> everyone who ever voted for them
    for e in obs.events:
        if isinstance(e, VoteCast) and e.target is not None:
            voters.setdefault(e.target, []).append(e.voter)
    out: dict[str, list[str]] = {}
    for name, role in obs.revealed().items():
        if role == "mafia" or (role in _ROLE_NAMES and Role(role).team is Team.MAFIA):
            living = [v for v in dict.fromkeys(voters.get(name, ()))
                      if v in obs.alive and v != obs.player]
            if living:
                out[name] = living
    return out


def _shuffled(names: Sequence[str], seed: int) -> list[str]:
    out = list(names)
    random.Random(seed).shuffle(out)
    return out


def _view(event: BaseEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in type(event).model_fields}


def role_counts(rules: Rules) -> str:
    """The roles dealt, as the headers say them: "3 villagers, 2 mafia, 1 doctor and 1 detective"."""
    parts = [f"{n} {r.value if n == 1 else r.spec.plural}" for r, n in rules.roles.items() if n]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


def _compile_chat_template(source: str | None) -> jinja2.Template:
    if not source:
        raise ValueError("chat prompt style needs a model with a chat template")

    def raise_exception(message: str) -> None:
        raise jinja2.TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(source)
