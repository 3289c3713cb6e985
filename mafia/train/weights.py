"""Example weights for `mafia train fit --weight SELECTOR=W`.

A selector names a decision kind (`vote`, `speak`, ...), a role (`detective`, `mafia`, ...),
`miss` (a DAgger choice where the student played another option than the teacher's), or a
combination (`detective:speak`, `miss:vote`). Each example's loss is multiplied by the
weights of every selector it matches; weight 0 leaves it out. Why: a game holds few of the decisions that matter most
(a detective with a found mafia speaks a few times a game, while every seat answers
"speak, wait or dm" many times), and a uniform mix teaches the frequent ones. `miss` picks
the states where the student's own habit (e.g. voting whom the table accuses) and the
teacher's answer (the mafia its check found) part: the ones a shortcut gets wrong.

Examples record their seat's role (`role`); datasets written before that have it rebuilt from
the game seed, which deals the roles (`mafia.rules.deal_roles`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mafia.config import make_rules
from mafia.enums import DecisionKind, Role
from mafia.errors import MafiaError
from mafia.rules import deal_roles

# What an example's `kind` can be: the decisions, and the texts that follow a choice.
KINDS = frozenset({k.value for k in DecisionKind} | {"speak"})
ROLES = frozenset(r.value for r in Role)
MISS = "miss"  # a DAgger choice whose `played` option is not the teacher's `target`


@dataclass(frozen=True)
class Weight:
    role: str | None
    kind: str | None
    factor: float
    miss: bool = False  # only choices the student played differently from the teacher

    def matches(self, role: str, kind: str, missed: bool = False) -> bool:
        return (self.role in (None, role) and self.kind in (None, kind)
                and (missed or not self.miss))

    @property
    def selector(self) -> str:
        """The selector without its factor, as `--only` takes it (`detective:speak`)."""
        return ":".join(p for p in (self.role, self.kind, MISS if self.miss else None) if p)

    def __str__(self) -> str:
        return f"{self.selector}={self.factor:g}"


def parse_weight(text: str) -> Weight:
    """`SELECTOR=W` as a Weight; MafiaError names what is wrong."""
    name, sep, value = text.partition("=")
    try:
        factor = float(value)
    except ValueError:
        factor = -1.0
    if not sep or factor < 0 or factor != factor or factor == float("inf"):
        raise MafiaError(f"--weight {text}: expected SELECTOR=W with W a number >= 0 "
                         "(e.g. vote=2, detective=3, detective:speak=4, day_action=0.5)")
    role = kind = None
    miss = False
    for part in name.split(":"):
        if part in ROLES and role is None:
            role = part
        elif part in KINDS and kind is None:
            kind = part
        elif part == MISS and not miss:
            miss = True
        else:
            raise MafiaError(f"--weight {text}: {part!r} is not a role "
                             f"({', '.join(sorted(ROLES))}), an example kind "
                             f"({', '.join(sorted(KINDS))}) or {MISS!r}")
    if role is None and kind is None and not miss:
        raise MafiaError(f"--weight {text}: no selector before '='")
    return Weight(role, kind, factor, miss)


def parse_selector(text: str, flag: str = "--only") -> Weight:
    """A bare SELECTOR (`protect`, `detective:speak`) as a Weight of factor 1."""
    if "=" in text:
        raise MafiaError(f"{flag} {text}: expected a SELECTOR without '=' (e.g. protect, "
                         "detective, detective:speak)")
    try:
        return parse_weight(f"{text}=1")
    except MafiaError as exc:
        raise MafiaError(str(exc).replace(f"--weight {text}=1", f"{flag} {text}")) from None


def selected(meta: dict[str, Any], example: dict[str, Any], selectors: Sequence[Weight]) -> bool:
    """Whether an example matches any of the selectors (all of them when there are none)."""
    if not selectors:
        return True
    role, missed = _facts(meta, example, selectors)
    return any(s.matches(role, example["kind"], missed) for s in selectors)


def _facts(meta: dict[str, Any], example: dict[str, Any],
           selectors: Sequence[Weight]) -> tuple[str, bool]:
    """What selectors match on besides the kind: the seat's role (only looked up when a
    selector names one: old datasets rebuild it from the deal) and whether it is a miss."""
    role = example_role(meta, example) if any(s.role for s in selectors) else ""
    return role, "played" in example and example["played"] != example["target"]


def example_role(meta: dict[str, Any], example: dict[str, Any]) -> str:
    """The role of the seat that made the example."""
    if "role" in example:
        return str(example["role"])
    rules = make_rules(players=int(meta.get("players", 7)))
    return deal_roles(rules, int(example["seed"]))[example["seat"]].value


def weigh(meta: dict[str, Any], examples: Iterable[dict[str, Any]],
          weights: Sequence[Weight]) -> list[float]:
    """Each example's loss weight: the product of the factors of the selectors it matches."""
    out = []
    for ex in examples:
        role, missed = _facts(meta, ex, weights)
        w = 1.0
        for sel in weights:
            if sel.matches(role, ex["kind"], missed):
                w *= sel.factor
        out.append(w)
    return out
