"""mkdocs hook: pages that must not drift from the code are filled from it at build time.

A page holds a marker line, `<!-- generated: NAME -->`, replaced by:
- `rules`: the rules table, from `mafia.config.Rules` (each field's default and description);
- `events`: every transcript event's fields and JSON types, from the event models;
- `cli`: every command's `--help`, from the argument parsers;
- `roles`: every role, from the role modules (`mafia/roles/`) and `prompts/roles.toml`.
"""

from __future__ import annotations

import json
import re
from typing import Any

MARKER = re.compile(r"^<!-- generated: (\w+) -->$", re.M)


def _default(field: Any) -> str:
    if field.default_factory is not None:
        return f"`{json.dumps(field.default_factory(), default=str)}`"
    return f"`{json.dumps(field.default, default=str)}`"


def rules_table() -> str:
    from mafia.config import Rules

    rows = ["| option | default | meaning |", "|---|---|---|"]
    for name, field in Rules.model_fields.items():
        text = (field.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{name}` | {_default(field)} | {text} |")
    return "\n".join(rows)


def _json_type(prop: dict[str, Any], defs: dict[str, Any] | None = None) -> str:
    defs = defs or {}
    if "$ref" in prop:  # an enum: its values
        prop = defs.get(prop["$ref"].rsplit("/", 1)[-1], prop)
    if "const" in prop:
        return f'`"{prop["const"]}"`'
    if "enum" in prop:
        return " or ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    if "anyOf" in prop:
        return " or ".join(_json_type(p, defs) for p in prop["anyOf"])
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    kind = prop.get("type", "any")
    if kind == "array":
        return f"array of {_json_type(prop.get('items', {}), defs)}"
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"object of {_json_type(prop['additionalProperties'], defs)}"
    return str(kind)


def events_tables() -> str:
    from mafia import events

    out = []
    classes = sorted({cls for cls in vars(events).values() if isinstance(cls, type)
                      and issubclass(cls, events.BaseEvent) and cls is not events.BaseEvent},
                     key=lambda c: c.model_fields["kind"].default)
    base = set(events.BaseEvent.model_fields)
    for cls in classes:
        schema = cls.model_json_schema()
        kind = cls.model_fields["kind"].default
        doc = " ".join((cls.__doc__ or "").split())
        out.append(f"### `{kind}`\n")
        if doc:
            out.append(doc + "\n")
        out.append("| field | JSON type | required |\n|---|---|---|")
        for name, prop in schema["properties"].items():
            if name in base and name != "kind":
                continue
            need = "yes" if name in schema.get("required", []) else "no"
            out.append(f"| `{name}` | {_json_type(prop, schema.get('$defs'))} | {need} |")
        out.append("")
    schema = events.BaseEvent.model_json_schema()
    head = ["Every event also has: " + ", ".join(
        f"`{n}` ({_json_type(p, schema.get('$defs'))})"
        for n, p in schema["properties"].items() if n != "kind") + ".", ""]
    return "\n".join(head + out)


def cli_reference() -> str:
    import argparse

    from mafia.cli import build_parser

    parser = build_parser()
    out = ["```text", parser.format_help().rstrip(), "```", ""]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        out += [f"## `mafia {name}`", "", "```text", command.format_help().rstrip(), "```", ""]
        nested = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        for action in nested:
            for verb, p in action.choices.items():
                out += [f"### `mafia {name} {verb}`", "", "```text", p.format_help().rstrip(),
                        "```", ""]
    return "\n".join(out)


def roles_table() -> str:
    """Every role module (mafia/roles/) with its side, night power, check result, default
    count and the sentence models read about it (prompts/roles.toml)."""
    from mafia.enums import Role
    from mafia.agents import role_text

    rows = ["| role | side | night | a check shows | wins | default count (7 seats) | "
            "rules sentence in prompts |", "|---|---|---|---|---|---|---|"]
    for role in Role:
        spec = role.spec
        night = spec.night or "-"
        if spec.shots:
            night += f" ({spec.shots} per game)"
        shows = spec.appears_as or role.value
        wins = "alone, when voted out (the game ends)" if spec.wins_when_voted_out else \
            f"with the {spec.side}"
        count = "the rest" if role is Role.VILLAGER else str(spec.default_count(7))
        said = role_text.text(role, "rule") or "(in the templates)"
        rows.append(f"| `{role.value}` | {spec.side} | {night} | {shows} | {wins} | {count} | "
                    f"{said} |")
    return "\n".join(rows)


GENERATORS = {"rules": rules_table, "events": events_tables, "cli": cli_reference,
              "roles": roles_table}


def on_page_markdown(markdown: str, **_: Any) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown generated section {name!r}")
        return GENERATORS[name]()

    return MARKER.sub(fill, markdown)
