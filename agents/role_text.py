"""The optional roles' prose (prompts/roles.toml), for prompts and the human app."""

from __future__ import annotations

import sys
from functools import lru_cache
from importlib.resources import files
from typing import Any

import jinja2

from mafia.config import Rules
from mafia.enums import Role

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, str]]:
    return tomllib.loads(files("mafia.prompts").joinpath("roles.toml").read_text("utf-8"))


def text(role: Role | str, key: str) -> str | None:
    """One field of a role's prose, None when the role has none (the classic four)."""
    return _table().get(str(role), {}).get(key)


def rule_lines(rules: Rules) -> list[str]:
    """The rules sentences of the optional roles dealt in this game, in deal order."""
    return [line for r in Role if rules.count(r) and (line := text(r, "rule"))]


def render(role: Role, key: str, **facts: Any) -> str | None:
    """A role's text field rendered as a Jinja2 template; None when it has none."""
    template = text(role, key)
    if template is None:
        return None
    return _ENV.from_string(template).render(**facts).strip()


def identity(role: Role, **facts: Any) -> str | None:
    return render(role, "identity", **facts)


_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
