"""`--agents` specs: parsing, team seating, model options and each spec's identity for
provenance. Building the players from them is `mafia.agents.seating`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mafia.config import Rules
from mafia.enums import Team
from mafia.errors import MafiaError
from mafia.rules import deal_roles

from mafia.agents.program import is_program_spec

BASELINES = ("random", "heuristic")


@dataclass(frozen=True)
class ModelOptions:
    """Options passed through to model backends and program seats (ignored by baseline
    players)."""

    threads: int | None = None
    ctx: int = 2048
    gpu_layers: int = 0
    endpoint: str | None = None
    prompt_style: str = "auto"  # "auto" | "chat" | "completion"
    # What a model seat's prompt holds: "plain" (only what the seat knows), "assisted" (plus
    # inferred suspects, suggested lines, calibration), or "auto": plain for a model with a
    # trained adapter, assisted otherwise.
    profile: str = "auto"
    log_prompts: bool = False
    max_tokens: int = 40
    # "batched": every seat of a model in one llama.cpp context, calls of one moment decoded
    # together (fast). "simple": one Llama per seat, one call at a time (the reference).
    backend: str = "batched"
    # Keep loaded models across games in this process (sweeps); each game still starts from
    # an empty KV cache, so a game's result does not depend on what ran before it.
    reuse_models: bool = False
    # `cmd:` seats: seconds a bot may take per decision, and where its stderr goes.
    program_timeout: float = 10.0
    program_log: str | None = None


def is_model_spec(spec: str) -> bool:
    """A model alias or GGUF path: not a baseline, not a program seat."""
    return spec not in BASELINES and not is_program_spec(spec)


def split_endpoint(spec: str) -> tuple[str, str | None]:
    """`MODEL@URL` -> (MODEL, URL): a seat served by that server, which knows the model by
    that name; any other spec -> (spec, None)."""
    for scheme in ("@http://", "@https://"):
        if scheme in spec:
            model, _, rest = spec.partition(scheme)
            return model, scheme[1:] + rest
    return spec, None


def effective_profile(requested: str, has_adapter: bool) -> str:
    """A model seat's prompt profile: "auto" is plain for a model with a trained adapter."""
    if requested != "auto":
        return requested
    return "plain" if has_adapter else "assisted"


def seat_identity(spec: str, options: ModelOptions) -> dict[str, Any]:
    """What plays a spec's seats, for provenance: a baseline's or program's spec, or a
    model's file hashes and prompt profile (the endpoint's URL when it is served)."""
    if spec in BASELINES or is_program_spec(spec):
        return {"spec": spec}
    from mafia.agents.registry import resolve

    name, url = split_endpoint(spec)
    url = url or options.endpoint
    try:
        model = resolve(name)
    except MafiaError:
        if url is None:
            raise
        return {"spec": spec, "endpoint": url, "profile": options.profile}
    return {"spec": spec, "sha256": model.sha256, "adapter_sha256": model.adapter_sha256,
            "profile": effective_profile(options.profile, model.adapter is not None)}


def parse_specs(text: str) -> list[str]:
    specs = [s.strip() for s in text.split(",") if s.strip()]
    if not specs:
        raise MafiaError("--agents: give at least one player spec, e.g. random")
    return specs


def parse_team_spec(text: str, flag: str) -> str:
    specs = [s.strip() for s in text.split(",") if s.strip()]
    if len(specs) != 1:
        raise MafiaError(f"{flag}: give exactly one player spec, e.g. {flag} random")
    return specs[0]


@dataclass(frozen=True)
class Teams:
    """`--town SPEC --mafia SPEC`: every mafia-side seat (mafia, godfather) plays one spec,
    every other seat (town, and own-side roles such as the jester) the other; which seats
    are which is still the game seed's deal."""

    town: str
    mafia: str

    def seat_specs(self, rules: Rules, seed: int) -> list[str]:
        dealt = deal_roles(rules, seed)  # the engine deals exactly this for the seed
        return [self.mafia if role.team is Team.MAFIA else self.town for role in dealt.values()]


def choose_seating(agents: str | None, town: str | None, mafia: str | None,
                   default: str | None = None) -> list[str] | Teams:
    """`--agents` (specs cycled over the seats) or `--town` with `--mafia`, never both."""
    if agents is not None and (town is not None or mafia is not None):
        raise MafiaError("--agents cannot be combined with --town/--mafia; give one or the other")
    if (town is None) != (mafia is None):
        raise MafiaError("--town and --mafia go together: give both")
    if town is not None and mafia is not None:
        return Teams(parse_team_spec(town, "--town"), parse_team_spec(mafia, "--mafia"))
    if agents is None and default is None:
        raise MafiaError("give --agents SPEC,... or --town SPEC --mafia SPEC")
    return parse_specs(agents if agents is not None else str(default))
