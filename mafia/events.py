"""Events: one small class per thing that happens. The JSONL transcript is a list of these.

Every event has `seq`, `kind`, `day`, `phase` and `visible_to` (None = public, else the names of
the players who see it). Fields ending in `_s` or `_ms` hold wall-clock measurements and are the
only fields allowed to differ between two runs of the same seed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, TypeAdapter, model_serializer

from mafia.enums import Channel, Phase, Team, Winner


class BaseEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int
    kind: str
    day: int
    phase: Phase
    visible_to: tuple[str, ...] | None = None

    def visible_for(self, player: str) -> bool:
        return self.visible_to is None or player in self.visible_to


class GameStarted(BaseEvent):
    kind: Literal["game_started"] = "game_started"
    seed: int
    version: str
    config: dict[str, Any]  # every rule, defaults filled
    players: list[dict[str, Any]]  # [{name, agent: {...}}] in seat order; no roles
    # Which build played (mafia/provenance.py); empty in transcripts from before it existed.
    build: dict[str, Any] = {}


class RoleAssigned(BaseEvent):
    kind: Literal["role_assigned"] = "role_assigned"
    player: str
    role: str
    team: Team
    teammates: tuple[str, ...] = ()  # fellow mafia, for mafia members


class PhaseStarted(BaseEvent):
    kind: Literal["phase_started"] = "phase_started"
    # The round's public order of every seat (rules.round_order), the same for the night and
    # the day of one number; empty in transcripts from before 0.4.7.
    order: tuple[str, ...] = ()


class Message(BaseEvent):
    kind: Literal["message"] = "message"
    channel: Channel
    sender: str
    recipient: str | None = None  # DMs only
    text: str
    # Simulated seconds into the day's discussion (the `clock` protocol only): when the
    # message landed, and when its author started typing it. Left out of the JSON when unset,
    # so transcripts of the other protocols read as before.
    t: float | None = None
    started: float | None = None

    @model_serializer(mode="wrap")
    def _drop_unset_times(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("t", "started"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class Typing(BaseEvent):
    """`clock` protocol with `typing_events`: a player started typing (as chat apps show);
    public messages are announced to everyone, DMs to both ends only."""

    kind: Literal["typing"] = "typing"
    player: str
    channel: Channel
    recipient: str | None = None
    t: float


class FloorBids(BaseEvent):
    """`bidding` protocol: one turn's bids for the floor and who got it (None: every bid was
    0). Seen by no player: bids are secret; the omniscient replay and the report read them."""

    kind: Literal["floor_bids"] = "floor_bids"
    turn: int
    bids: dict[str, int]
    speaker: str | None


class NightAction(BaseEvent):
    kind: Literal["night_action"] = "night_action"
    actor: str
    action: Literal["kill", "protect", "investigate", "shoot"]
    target: str


class KillDecided(BaseEvent):
    """The mafia's plurality target for the night (visible to the mafia)."""

    kind: Literal["kill_decided"] = "kill_decided"
    target: str | None
    tally: dict[str, int]
    tie: bool


class InvestigationResult(BaseEvent):
    kind: Literal["investigation_result"] = "investigation_result"
    detective: str
    target: str
    result: str  # a team, or a role when detective_learns = "role"


class PlayerDied(BaseEvent):
    kind: Literal["player_died"] = "player_died"
    player: str
    cause: Literal["vote", "night"]
    role: str | None = None  # as reveal_on_death allows
    team: Team | None = None


class NobodyDied(BaseEvent):
    """Dawn after a night in which nobody was killed."""

    kind: Literal["nobody_died"] = "nobody_died"


class VoteCast(BaseEvent):
    kind: Literal["vote_cast"] = "vote_cast"
    voter: str
    target: str | None  # None = abstain


class VoteResult(BaseEvent):
    kind: Literal["vote_result"] = "vote_result"
    tally: dict[str, int]
    eliminated: str | None
    tie: bool


class LastWords(BaseEvent):
    kind: Literal["last_words"] = "last_words"
    player: str
    text: str


class InvalidAction(BaseEvent):
    kind: Literal["invalid_action"] = "invalid_action"
    player: str
    decision: str  # the DecisionKind asked for
    request: int | None = None  # the player's request index (ties it to its model_call events)
    got: str  # what came back, truncated
    error: str  # why it was refused
    fallback: str | None  # what the engine used instead (None = silence / abstain)


class ModelCall(BaseEvent):
    """One language-model call made for a seat (visible to that seat)."""

    kind: Literal["model_call"] = "model_call"
    player: str
    decision: str
    request: int | None = None  # the player's request index this call answered
    purpose: str  # "choice" or "text"
    prompt_tokens: int
    reused_tokens: int  # prompt tokens served from the seat's own KV cache
    generated_tokens: int
    latency_ms: float
    prompt: str | None = None  # only with --log-prompts
    # Prompt tokens copied from another seat's cache (the batched backend reads text every
    # seat shares, like the rules, once): new to this seat, but not evaluated for it.
    shared_tokens: int = 0


class GameOver(BaseEvent):
    kind: Literal["game_over"] = "game_over"
    winner: Winner
    reason: str
    roles: dict[str, str]
    days: int


Event = Annotated[
    Union[
        GameStarted, RoleAssigned, PhaseStarted, Message, NightAction, KillDecided,
        InvestigationResult, PlayerDied, NobodyDied, VoteCast, VoteResult, LastWords,
        InvalidAction, ModelCall, GameOver, Typing, FloorBids,
    ],
    Field(discriminator="kind"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
KINDS = frozenset(
    cls.model_fields["kind"].default
    for cls in BaseEvent.__subclasses__()
)


def event_from_dict(data: dict[str, Any]) -> Event:
    """Validate one transcript record (raises pydantic.ValidationError on a bad one)."""
    return EVENT_ADAPTER.validate_python(data)


def event_to_json(event: BaseEvent) -> str:
    return event.model_dump_json()
