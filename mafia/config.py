"""Rules of a game: one immutable pydantic object, loadable from TOML, every option defaulted."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mafia.enums import Phase, Role
from mafia.errors import MafiaError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# Seat names, in seat order. Twelve is the most the engine is tested with; sixteen are allowed.
SEAT_NAMES = (
    "Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi",
    "Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil",
)
MIN_PLAYERS = 4
MAX_PLAYERS = len(SEAT_NAMES)


def default_role_counts(players: int) -> dict[Role, int]:
    """Each role module's default: about one mafia per three players, one doctor, one
    detective, none of the optional roles; villagers fill the rest."""
    counts = {r: r.spec.default_count(players) for r in Role if r is not Role.VILLAGER}
    counts = {r: n for r, n in counts.items() if n}
    counts[Role.VILLAGER] = players - sum(counts.values())
    return counts


class Rules(BaseModel):
    """Every rule of a game. Unknown keys and bad values are refused with the key's name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Each field's description is the docs' rules table (docs/rules.md is generated from it).
    players: int = Field(7, ge=MIN_PLAYERS, le=MAX_PLAYERS,
                         description=f"seats ({MIN_PLAYERS}-{MAX_PLAYERS})")
    roles: dict[Role, int] = Field(default_factory=dict, description=(
        "counts per role (" + ", ".join(f"`{r.value}`" for r in Role) + "); unspecified: "
        "about one mafia per three players (less the other mafia-side roles given, such as "
        "`godfather`), 1 doctor, 1 detective, none of the others, villagers fill the rest. "
        "The mafia side must be smaller than everyone else."))
    first_phase: Literal["night", "day"] = Field("night", description='`"night"` or `"day"`')
    max_days: int = Field(10, ge=1, description=(
        "the game is a draw when day `max_days` ends without a winner"))
    night_chat_rounds: int = Field(1, ge=0, description=(
        "rounds of mafia-channel chat each night (when 2+ mafia live)"))
    doctor_self_save: bool = Field(True, description="the doctor may protect themself")
    doctor_repeat_save: bool = Field(True, description=(
        "the doctor may protect the same player two nights running"))
    detective_learns: Literal["team", "role"] = Field("team", description=(
        'what a check shows: `"team"` (mafia or town) or `"role"`'))
    discussion: Literal["moments", "round_robin", "bidding", "clock"] = Field(
        "moments", description=('when players speak by day: `"moments"`, `"round_robin"`, '
                                '`"bidding"` or `"clock"` (mafia/discussion/)'))
    discussion_rounds: int = Field(3, ge=0, description=(
        "moments (or round-robin rounds) per day"))
    discussion_turns: int = Field(10, ge=0, description="`bidding`: turns per day")
    day_seconds: float = Field(120.0, ge=0, description=(
        "`clock`: simulated seconds a day's discussion lasts"))
    max_silence_seconds: float = Field(30.0, gt=0, description=(
        "`clock`: an idle player is asked again after this long without deciding"))
    words_per_second: float = Field(1.0, gt=0, description=(
        "`clock`: simulated typing speed (LLMafia: 1 word/s)"))
    clock_decisions_per_day: int = Field(4, ge=0, description=(
        "`clock`: most decisions per player per day (bounds a day)"))
    typing_events: bool = Field(False, description=(
        "`clock`: emit a `typing` event when someone starts typing"))
    max_public_messages_per_day: int | None = Field(None, ge=0, description=(
        "cap on public messages per day (null or omitted: no cap)"))
    dm_limit_per_day: int = Field(2, ge=0, description="DMs each player may send per day")
    max_message_chars: int = Field(300, ge=1, description=(
        "longer messages are cut, not rejected"))
    allow_abstain: bool = Field(False, description="voters may abstain")
    vote_reveal: Literal["simultaneous", "sequential"] = Field("simultaneous", description=(
        'or `"sequential"`: voters vote one by one in a seeded order, seeing earlier votes'))
    tie_policy: Literal["random", "none"] = Field("random", description=(
        'a tied vote is broken by the game\'s seeded generator; `"none"`: nobody is '
        "eliminated"))
    last_words: bool = Field(True, description="an eliminated player may speak before dying")
    reveal_on_death: Literal["role", "team", "none"] = Field("role", description=(
        '`"role"`, `"team"` or `"none"`, for night kills too'))

    @model_validator(mode="after")
    def _fill_and_check_roles(self) -> "Rules":
        counts = default_role_counts(self.players)
        given = dict(self.roles)
        for role, n in given.items():
            if n < 0:
                raise ValueError(f"roles.{role}: count must be >= 0, got {n}")
        if Role.MAFIA not in given:  # other mafia-side roles take default mafia seats
            others = sum(n for r, n in given.items() if r.spec.knows_team)
            counts[Role.MAFIA] = max(0, counts[Role.MAFIA] - others)
        counts.update(given)
        if Role.VILLAGER not in given:
            counts[Role.VILLAGER] = self.players - sum(
                n for r, n in counts.items() if r is not Role.VILLAGER
            )
        special = sum(n for r, n in counts.items() if r is not Role.VILLAGER)
        if counts[Role.VILLAGER] < 0:
            named = {r: n for r, n in counts.items() if r is not Role.VILLAGER}
            raise ValueError(f"roles: {_describe(named)} need {special} seats, "
                             f"but there are {self.players} players")
        total = sum(counts.values())
        if total != self.players:
            raise ValueError(
                f"roles: {_describe(counts)} is {total} roles for {self.players} players"
            )
        mafia = sum(n for r, n in counts.items() if r.spec.knows_team)
        if mafia < 1:
            raise ValueError("roles.mafia: at least one mafia is needed")
        if mafia >= self.players - mafia:
            raise ValueError(
                f"roles.mafia: {mafia} mafia against {self.players - mafia} town "
                "would win at once; mafia must be fewer than town"
            )
        # Recorded (and dumped into every transcript): the roles a default game deals, at
        # their counts, and any other role in play; so a game without the optional roles
        # records its rules exactly as before they existed.
        base = {r for r in Role if r is Role.VILLAGER or r.spec.default_count(self.players)}
        object.__setattr__(self, "roles", {
            r: counts.get(r, 0) for r in Role if r in base or counts.get(r, 0)})
        return self

    def count(self, role: Role) -> int:
        return self.roles.get(role, 0)

    @property
    def first(self) -> Phase:
        return Phase(self.first_phase)

    def role_list(self) -> list[Role]:
        """Roles in a fixed order (before the seeded shuffle that deals them to seats)."""
        return [role for role in Role for _ in range(self.count(role))]


def _describe(counts: dict[Role, int]) -> str:
    return ", ".join(f"{role}={n}" for role, n in counts.items() if n)


def filled_rules(values: dict[str, Any]) -> dict[str, Any]:
    """Recorded rules with the rules added since filled in at their defaults (a game or
    sweep made before a rule existed played under its default); as given when they are no
    longer valid rules."""
    try:
        return Rules(**values).model_dump(mode="json")
    except (ValueError, TypeError):
        return values


def make_rules(**values: object) -> Rules:
    """Build Rules, turning pydantic's errors into one MafiaError line that names the key."""
    try:
        return Rules(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise MafiaError(format_validation_error(exc)) from None


def format_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown rule"
        parts.append(f"{loc}: {msg}" if loc and not msg.startswith(loc) else msg)
    return "bad rules: " + "; ".join(parts)


def load_rules_file(path: str | Path) -> dict[str, object]:
    """Read a TOML rules file into a dict of rule values (validated later with overrides)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MafiaError(f"rules file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MafiaError(f"cannot read rules file {p}: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MafiaError(f"rules file {p} is not valid TOML: {exc}") from None


def parse_roles_arg(text: str) -> dict[str, int]:
    """Parse `mafia=2,doctor=1` into a dict; role names are checked by Rules."""
    counts: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise MafiaError(f"--roles: expected ROLE=COUNT, got {item!r}")
        role = name.strip().lower()
        if role not in {r.value for r in Role}:
            known = ", ".join(r.value for r in Role)
            raise MafiaError(f"--roles: unknown role {role!r} (known: {known})")
        counts[role] = int(value)
    return counts
