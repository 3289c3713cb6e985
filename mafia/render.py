"""Turns events into rich renderables: the live view of `mafia play` (and replay's base).

One renderer, three points of view: omniscient (everything), public (what a spectator sees),
or one seat (exactly the events visible to that player).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text
from rich.theme import Theme

from mafia.enums import Role
from mafia.events import (
    BaseEvent, FloorBids, GameOver, GameStarted, InvalidAction, InvestigationResult,
    KillDecided, LastWords, Message, NightAction, NobodyDied, PhaseStarted, PlayerDied,
    RoleAssigned, Typing, VoteCast, VoteResult,
)

THEME = Theme({
    "phase.night": "bold blue", "phase.day": "bold yellow",
    "private": "italic magenta", "mafia": "bold red", "town": "bold green",
    "death": "bold red", "muted": "dim", "invalid": "dim italic", "winner": "bold",
})
SEAT_COLOURS = ("cyan", "green", "yellow", "magenta", "bright_blue", "bright_red",
                "bright_green", "orange3", "turquoise2", "plum2", "gold1", "salmon1",
                "light_sky_blue1", "khaki1", "medium_purple1", "dark_sea_green2")


def side_style(role: str) -> str:
    """A role's colour: its side's (mafia, town), or the winner colour for an own side."""
    side = Role(role).team.value if role in {r.value for r in Role} else role
    return {"town": "town", "mafia": "mafia"}.get(side, "winner")


@dataclass(frozen=True)
class View:
    """Whose eyes: None for omniscient; `public` for a spectator; else one seat's name."""

    seat: str | None = None
    public: bool = False

    def sees(self, event: BaseEvent) -> bool:
        if self.public:
            return event.visible_to is None
        return self.seat is None or event.visible_for(self.seat)


class Renderer:
    def __init__(self, view: View = View()) -> None:
        self.view = view
        self.colours: dict[str, str] = {}
        self.roles: dict[str, str] = {}  # what this view knows of each seat's identity
        self.agents: dict[str, str] = {}
        self.votes: list[VoteCast] = []
        self.vote_history: list[tuple[int, dict[str, str | None], str | None]] = []
        self.died: dict[str, str] = {}

    def name(self, player: str) -> Text:
        text = Text(player, style=f"bold {self.colours.get(player, 'white')}")
        if player in self.roles:
            text.append(f" ({self.roles[player]})", style="muted")
        return text

    def render(self, event: BaseEvent) -> RenderableType | None:
        if not self.view.sees(event):
            return None
        method = getattr(self, f"_{event.kind}", None)
        return method(event) if method else None

    # one method per kind ------------------------------------------------------------------

    def _game_started(self, e: GameStarted) -> RenderableType:
        seats = []
        for i, p in enumerate(e.players):
            self.colours[p["name"]] = SEAT_COLOURS[i % len(SEAT_COLOURS)]
            self.agents[p["name"]] = agent_label(p["agent"])
            seats.append(Text.assemble(self.name(p["name"]), f": {self.agents[p['name']]}"))
        c = e.config
        counts = ", ".join(f"{n} {r}" for r, n in c["roles"].items() if n)
        body = Group(
            Text(f"seed {e.seed} · {c['players']} players: {counts} · mafia v{e.version}"),
            Text(f"first phase {c['first_phase']}, up to {c['max_days']} days, "
                 f"{discussion_label(c)}, reveal on death: {c['reveal_on_death']}",
                 style="muted"),
            *seats,
        )
        title = "Mafia" if self.view.seat is None else f"Mafia, as seen by {self.view.seat}"
        if self.view.public:
            title = "Mafia, public view"
        return Panel(body, title=title, expand=False)

    def _role_assigned(self, e: RoleAssigned) -> RenderableType | None:
        if self.view.public:
            return None
        self.roles[e.player] = e.role
        for mate in e.teammates:
            self.roles[mate] = "mafia"
        if self.view.seat is None:
            return None  # omniscient: roles show next to names from here on
        colour = self.colours.get(e.player, "white")
        text = Text.assemble("You are ", (e.player, f"bold {colour}"), ": ",
                             (e.role, side_style(e.role)), f" ({e.team.value})")
        if e.teammates:
            text.append(f". Fellow mafia: {', '.join(e.teammates)}")
        return text

    def _phase_started(self, e: PhaseStarted) -> RenderableType:
        style = f"phase.{e.phase.value}"
        return Rule(Text(f"{e.phase.value.title()} {e.day}", style=style), style=style)

    def _message(self, e: Message) -> RenderableType:
        if e.channel == "dm":
            line = Text.assemble("    ", self.name(e.sender), " → ",
                                 self.name(e.recipient or "?"), (" (private): ", "private"),
                                 (e.text, "private"))
        elif e.channel == "mafia":
            line = Text.assemble(("[mafia] ", "mafia"), self.name(e.sender), ": ", e.text)
        else:
            line = Text.assemble(self.name(e.sender), ": ", e.text)
        # Only clock games stamp messages, so every other game renders exactly as before.
        return line if e.t is None else Text.assemble(clock_stamp(e.t), line)

    def _typing(self, e: Typing) -> RenderableType:
        # A DM's typing event is visible to its two ends only; View.sees has filtered it.
        to = Text.assemble(" a DM to ", self.name(e.recipient)) if e.recipient else ""
        return Text.assemble(clock_stamp(e.t), self.name(e.player), " is typing", to, "…",
                             style="muted")

    def _floor_bids(self, e: FloorBids) -> RenderableType | None:
        if self.view.public or self.view.seat is not None:
            return None  # bids are secret (visible_to=() hides them already; kept explicit)
        bids = ", ".join(f"{p} {b}" for p, b in e.bids.items())
        outcome = f"{e.speaker} has the floor" if e.speaker else "nobody bids"
        return Text(f"  turn {e.turn} bids: {bids} → {outcome}", style="muted")

    def _night_action(self, e: NightAction) -> RenderableType:
        verb = {"kill": "wants to kill", "protect": "protects", "investigate": "investigates",
                "shoot": "shoots"}
        return Text.assemble("  ", self.name(e.actor), f" {verb[e.action]} ",
                             self.name(e.target), style="muted")

    def _kill_decided(self, e: KillDecided) -> RenderableType:
        target = e.target or "nobody"
        tie = " (tie broken at random)" if e.tie else ""
        return Text(f"  The mafia choose {target}{tie}.", style="mafia")

    def _investigation_result(self, e: InvestigationResult) -> RenderableType:
        line = Text.assemble("  ", self.name(e.detective), " learns that ",
                             self.name(e.target), f" is {e.result}.", style="muted")
        self.roles.setdefault(e.target, e.result)  # only the detective's views get this event
        return line

    def _nobody_died(self, e: NobodyDied) -> RenderableType:
        return Text("Dawn: nobody died in the night.", style="town")

    def _player_died(self, e: PlayerDied) -> RenderableType:
        shown = e.role or (e.team.value if e.team else None)
        if shown:
            self.roles[e.player] = shown
        self.died[e.player] = f"day {e.day} ({e.cause})"
        how = "was killed in the night" if e.cause == "night" else "was voted out"
        reveal = f" {e.player} was {shown}." if shown else " Their role stays secret."
        return Text.assemble("☠ ", self.name(e.player), f" {how}.{reveal}", style="death")

    def _vote_cast(self, e: VoteCast) -> None:
        self.votes.append(e)
        return None

    def _vote_result(self, e: VoteResult) -> RenderableType:
        table = Table(title=f"Day {e.day} vote", show_edge=False, pad_edge=False)
        table.add_column("voter")
        table.add_column("votes for")
        for v in self.votes:
            table.add_row(self.name(v.voter), self.name(v.target) if v.target else "abstains")
        tally = ", ".join(f"{k} {n}" for k, n in sorted(e.tally.items(), key=lambda kv: -kv[1]))
        if e.eliminated:
            outcome = f"{e.eliminated} is eliminated" + (" (tie broken at random)" if e.tie else "")
        else:
            outcome = "tie: nobody is eliminated" if e.tie else "nobody is eliminated"
        self.vote_history.append((e.day, {v.voter: v.target for v in self.votes}, e.eliminated))
        self.votes = []
        return Group(table, Text(f"Tally: {tally or 'no votes'}. {outcome}.", style="bold"))

    def _last_words(self, e: LastWords) -> RenderableType:
        return Text.assemble(self.name(e.player), (" (last words): ", "muted"), e.text)

    def _invalid_action(self, e: InvalidAction) -> RenderableType:
        used = e.fallback if e.fallback is not None else "nothing"
        return Text(f"  ({e.player}: invalid {e.decision}: {e.error}; used {used})",
                    style="invalid")

    def _game_over(self, e: GameOver) -> RenderableType:
        return self.summary(e)

    def summary(self, e: GameOver) -> RenderableType:
        style = {"town": "town", "mafia": "mafia"}.get(e.winner.value, "winner")
        table = Table(show_edge=False)
        for col in ("player", "role", "agent", "died"):
            table.add_column(col)
        for player, role in e.roles.items():
            table.add_row(Text(player, style=f"bold {self.colours.get(player, 'white')}"),
                          Text(role, style=side_style(role)),
                          self.agents.get(player, "?"), self.died.get(player, "survived"))
        rows: list[RenderableType] = [
            Text(f"{e.winner.value.upper()} {'WINS' if e.winner.value != 'draw' else ''}"
                 f" after {e.days} day(s): {e.reason}", style=style), table,
        ]
        votes = votes_by_target(self.vote_history)
        if votes:
            rows.append(Text("Votes: " + votes, style="muted"))
        return Panel(Group(*rows), title="Game over", expand=False)


def votes_by_target(history: list[tuple[int, dict[str, str | None], str | None]]) -> str:
    parts = []
    for day, votes, out in history:
        by: dict[str, list[str]] = defaultdict(list)
        for voter, target in votes.items():
            by[target or "abstain"].append(voter)
        said = "; ".join(f"{t} <- {', '.join(v)}" for t, v in by.items())
        parts.append(f"day {day}: {said} => {out or 'nobody'}")
    return " | ".join(parts)


def clock_stamp(t: float) -> Text:
    """A clock game's simulated time into the day, as a dim fixed-width prefix."""
    return Text(f"[{t:5.1f}s] ", style="muted")


def discussion_label(config: dict) -> str:
    """The day's discussion protocol in a few words. Moments keep the wording from before
    protocols existed (old transcripts have no `discussion` key and mean moments)."""
    protocol = config.get("discussion", "moments")
    if protocol == "round_robin":
        return f"round robin, {config['discussion_rounds']} rounds"
    if protocol == "bidding":
        return f"bidding, {config['discussion_turns']} turns"
    if protocol == "clock":
        return f"clock, {config['day_seconds']:g} s days"
    return f"{config['discussion_rounds']} discussion rounds"


def agent_label(agent: dict) -> str:
    if agent.get("kind") == "llm":
        return str(agent.get("model", "model"))
    if agent.get("kind") == "program":  # py:..., cmd:... or a registered name
        return str(agent.get("spec", "program"))
    return str(agent.get("kind", "?"))
