"""The plain profile's prompts (templates in prompts/plain/): only what the seat knows.

Layout, so that seats share as long a prefix as possible:
    rules                         the same for every seat of the game
    public record                 the same for every seat at the same moment
    the seat's private record     its role, team, night actions and results, DMs, mafia chat
    state line + decision         the moment's facts (day, phase, alive, dead) and the question
Nothing in it is inferred for the seat: no suspects, no suggested lines, no example game.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2

from mafia.config import Rules
from mafia.observation import Observation

from mafia.agents.prompting import _defuse, _view, role_counts, templates_hash
from mafia.agents import role_text
from mafia.agents.role_text import rule_lines

PROFILES = ("plain", "assisted")
# Night actions the plain templates describe; any other is an optional role's (roles.toml).
_CLASSIC_ACTIONS = frozenset({"kill", "protect", "investigate"})
# Kept when the public record must be shortened to fit the context: who died, the votes.
_ESSENTIAL = frozenset({"phase_started", "player_died", "nobody_died", "vote_result", "vote_cast"})


class PlainBook:
    """The plain profile's templates, loaded once, with a hash of their text (recorded in the
    transcript header of every seat that reads them)."""

    def __init__(self, directory: str | Path | None = None) -> None:
        root = Path(str(directory)) if directory is not None else Path(str(files("mafia.prompts"))) / "plain"
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(root)), autoescape=False,
                                 keep_trailing_newline=False, undefined=jinja2.StrictUndefined)
        names = ("header", "identity", "public", "private", "state", "decision", "layout")
        self.templates = {n: env.get_template(f"{n}.j2") for n in names}
        self.hash = templates_hash(root, "*.j2")

    def render(self, name: str, **kw: Any) -> str:
        return self.templates[name].render(**kw).strip()


@dataclass
class _Line:
    day: int
    essential: bool
    text: str


def in_order(obs: Observation) -> list[str]:
    """The living in the round's public order (the engine's draw), as the state line lists them."""
    if not obs.order:
        return list(obs.alive)
    return [p for p in obs.order if p in obs.alive]


def rules_facts(rules: Rules, seats: Sequence[str]) -> dict[str, Any]:
    """What the rules text needs (the request carries the rules)."""
    return dict(seats=seats, counts=role_counts(rules), role_rules=rule_lines(rules),
                has={r.value: bool(n) for r, n in rules.roles.items()},
                learns=rules.detective_learns, last_words=rules.last_words,
                reveal=rules.reveal_on_death)


class PlainPrompt:
    """One seat's plain prompt, kept up to date from its observations."""

    def __init__(self, book: PlainBook, *, count_tokens: Callable[[str], int],
                 budget_tokens: int) -> None:
        self.book = book
        self.count_tokens = count_tokens
        self.budget = budget_tokens
        self.rules: str | None = None
        self.public: list[_Line] = []
        self.private: list[str] = []
        self.seen = 0
        self.dropped = 0  # oldest public chatter lines left out to fit the context

    def _absorb(self, obs: Observation, rules: Rules) -> None:
        # The optional roles' text comes from prompts/roles.toml (the `plain_*` fields), so
        # that prompts/plain/ stays the exact text the shipped adapter was trained on.
        if self.rules is None:
            facts = rules_facts(rules, obs.seats)
            self.rules = " ".join([self.book.render("header", **facts), *facts["role_rules"]])
            self.private.append(
                role_text.render(obs.role, "plain_identity", me=obs.player,
                                 teammates=obs.teammates)
                or self.book.render("identity", me=obs.player, role=obs.role.value,
                                    teammates=obs.teammates))
        for e in obs.events[self.seen:]:
            view = _view(e)
            if e.visible_to is None:
                text = self.book.render("public", e=view)
                if text:
                    self.public.append(_Line(e.day, e.kind in _ESSENTIAL, _defuse(text)))
            else:
                when = f"{'Night' if e.phase.value == 'night' else 'Day'} {e.day}"
                own = e.kind == "night_action" and view["action"] not in _CLASSIC_ACTIONS
                text = (role_text.render(obs.role, "plain_private", e=view, when=when) or ""
                        if own else self.book.render("private", e=view, when=when))
                if text:
                    self.private.append(_defuse(text))
        self.seen = len(obs.events)

    def _public(self) -> str:
        out, chatter = [], 0
        for ln in self.public:
            if not ln.essential:
                chatter += 1
                if chatter <= self.dropped:
                    continue
            out.append(ln.text)
        return "\n".join(out)

    def build(self, obs: Observation, kind: str, say_to: str | None = None, *,
              rules: Rules) -> str:
        """The prompt for one decision; the oldest public chatter is left out (for good: the
        prompt then keeps growing at the end) while it would not fit the context."""
        self._absorb(obs, rules)
        prompt = self._render(obs, kind, say_to)
        chatter = sum(1 for ln in self.public if not ln.essential)
        while self.count_tokens(prompt) > self.budget and self.dropped < chatter - 1:
            self.dropped = min(chatter - 1, self.dropped + max(1, chatter // 4))
            prompt = self._render(obs, kind, say_to)
        return prompt

    def _render(self, obs: Observation, kind: str, say_to: str | None) -> str:
        state = self.book.render("state", phase=obs.phase.value, day=obs.day,
                                 alive=in_order(obs), dead=obs.revealed())
        decision = (role_text.render(obs.role, "plain_decision", me=obs.player)
                    if kind == obs.role.spec.night_decision else None) or \
            self.book.render("decision", kind=kind, me=obs.player, say_to=say_to)
        return self.book.render("layout", rules=self.rules, public=self._public(),
                                me=obs.player, private="\n".join(self.private), state=state,
                                decision=decision)
