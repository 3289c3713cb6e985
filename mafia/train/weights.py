"""Example weights for `mafia train fit --weight SELECTOR=W`.

A selector names a decision kind (`vote`, `speak`, ...), a role (`detective`, `mafia`, ...) or
both (`detective:speak`). Each example's loss is multiplied by the weights of every selector
it matches; weight 0 leaves it out. Why: a game holds few of the decisions that matter most
(a detective with a found mafia speaks a few times a game, while every seat answers
"speak, wait or dm" many times), and a uniform mix teaches the frequent ones.

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


@dataclass(frozen=True)
class Weight:
    role: str | None
    kind: str | None
    factor: float

    def matches(self, role: str, kind: str) -> bool:
        return self.role in (None, role) and self.kind in (None, kind)

    def __str__(self) -> str:
        name = ":".join(p for p in (self.role, self.kind) if p)
        return f"{name}={self.factor:g}"


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
    for part in name.split(":"):
        if part in ROLES and role is None:
            role = part
        elif part in KINDS and kind is None:
            kind = part
        else:
            raise MafiaError(f"--weight {text}: {part!r} is not a role "
                             f"({', '.join(sorted(ROLES))}) or an example kind "
                             f"({', '.join(sorted(KINDS))})")
    if role is None and kind is None:
        raise MafiaError(f"--weight {text}: no selector before '='")
    return Weight(role, kind, factor)


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
        role = example_role(meta, ex) if any(w.role for w in weights) else ""
        w = 1.0
        for sel in weights:
            if sel.matches(role, ex["kind"]):
                w *= sel.factor
        out.append(w)
    return out
