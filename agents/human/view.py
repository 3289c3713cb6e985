"""What one seat's person is shown, built only from the events that seat may see.

`SeatView.add` takes each visible event (it refuses any other), keeps what the seat knows
(its role card, who lives, who died as what, the day and the clock) and says where the
event's rendering goes: the game log (public chat and the seat's own night results), the
mafia channel, or one DM conversation. Renderings come from the live view's Renderer, in
its one-seat point of view, so names, colours and role labels read as in `mafia play --as`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.text import Text

from mafia.enums import Channel, Phase
from mafia.events import (
    BaseEvent, GameOver, GameStarted, InvestigationResult, KillDecided, Message, NightAction,
    PhaseStarted, PlayerDied, RoleAssigned, Typing,
)
from mafia.render import Renderer, View, clock_stamp, discussion_label, side_style

from mafia.agents import role_text

LOG, MAFIA = "log", "mafia"  # panes; a DM conversation's pane is its partner's name


class SeatRenderer(Renderer):
    """The live view's renderer for one seat, shorter where the app has less room: a
    two-line header, and DMs without the "A → B (private)" their own pane makes plain."""

    def _game_started(self, e: GameStarted) -> RenderableType:
        super()._game_started(e)  # colours and agents
        c = e.config
        counts = ", ".join(f"{n} {r}" for r, n in c["roles"].items() if n)
        seats = Text("Seats: ")
        for i, p in enumerate(e.players):
            name = str(p["name"])
            seats.append(", " if i else "")
            seats.append(name, style=f"bold {self.colours[name]}")
            seats.append(" (you)" if name == self.view.seat else f" ({self.agents[name]})",
                         style="muted")
        return Group(Text(f"Mafia · seed {e.seed} · {c['players']} players: {counts} · "
                          f"{discussion_label(c)} · reveal on death: {c['reveal_on_death']}"),
                     seats)

    def _message(self, e: Message) -> RenderableType:
        if e.channel != "dm":
            return super()._message(e)
        sender = (Text("you", style="bold") if e.sender == self.view.seat
                  else self.name(e.sender))
        line = Text.assemble(sender, ": ", (e.text, "private"))
        return line if e.t is None else Text.assemble(clock_stamp(e.t), line)

    def _typing(self, e: Typing) -> RenderableType:
        if e.recipient is None:
            return super()._typing(e)
        return Text.assemble(clock_stamp(e.t), self.name(e.player), " is typing…",
                             style="muted")


@dataclass
class Death:
    shown: str | None  # role or team as revealed, None when reveal_on_death hides it
    cause: str
    day: int


@dataclass
class SeatView:
    seat: str
    renderer: Renderer = field(init=False)
    seats: tuple[str, ...] = ()
    role: str | None = None
    team: str | None = None
    teammates: tuple[str, ...] = ()
    findings: dict[str, str] = field(default_factory=dict)  # the detective's results
    deaths: dict[str, Death] = field(default_factory=dict)
    day: int = 0
    phase: Phase = Phase.SETUP
    clock: float | None = None  # clock games: the latest simulated time the seat saw today
    dms: dict[str, list[RenderableType]] = field(default_factory=dict)
    unread: Counter[str] = field(default_factory=Counter)
    over: GameOver | None = None

    def __post_init__(self) -> None:
        self.renderer = SeatRenderer(View(seat=self.seat))

    @property
    def alive(self) -> tuple[str, ...]:
        return tuple(s for s in self.seats if s not in self.deaths)

    def seats_others(self) -> tuple[str, ...]:
        return tuple(s for s in self.seats if s != self.seat)

    @property
    def mafia(self) -> bool:
        """On the mafia side (mafia, godfather): sees the mafia channel."""
        return self.team == "mafia"

    def add(self, event: BaseEvent) -> tuple[str, RenderableType] | None:
        """Learn from `event`; where its rendering goes and the rendering (None: nothing)."""
        if not event.visible_for(self.seat):
            raise ValueError(f"{event.kind} #{event.seq} is not visible to {self.seat}")
        self._learn(event)
        shown = self.renderer.render(event)
        if shown is None:
            return None
        pane = self.pane(event)
        if pane not in (LOG, MAFIA):
            self.dms.setdefault(pane, []).append(shown)
        return pane, shown

    def pane(self, event: BaseEvent) -> str:
        if isinstance(event, (Message, Typing)) and event.channel is Channel.DM:
            sender = event.sender if isinstance(event, Message) else event.player
            return (event.recipient or "?") if sender == self.seat else sender
        if isinstance(event, Message) and event.channel is Channel.MAFIA:
            return MAFIA
        if isinstance(event, KillDecided) or (
            isinstance(event, NightAction) and event.action == "kill"
        ):
            return MAFIA
        return LOG

    def _learn(self, e: BaseEvent) -> None:
        if isinstance(e, GameStarted):
            self.seats = tuple(str(p["name"]) for p in e.players)
        elif isinstance(e, RoleAssigned) and e.player == self.seat:
            self.role, self.team, self.teammates = e.role, e.team.value, e.teammates
        elif isinstance(e, PhaseStarted):
            self.day, self.phase, self.clock = e.day, e.phase, None
        elif isinstance(e, (Message, Typing)) and e.t is not None:
            self.clock = e.t
        elif isinstance(e, InvestigationResult):
            self.findings[e.target] = e.result
        elif isinstance(e, PlayerDied):
            shown = e.role or (e.team.value if e.team else None)
            self.deaths[e.player] = Death(shown, e.cause, e.day)
        elif isinstance(e, GameOver):
            self.over, self.phase = e, Phase.END
        if isinstance(e, Message) and e.channel is Channel.DM and e.sender != self.seat:
            self.unread[e.sender] += 1

    # ---- what the panels show --------------------------------------------------------------

    def label(self, player: str) -> str:
        """What this seat knows of `player`: revealed at death, a fellow mafia, a finding."""
        if player == self.seat:
            return "you"
        if player in self.deaths and self.deaths[player].shown:
            return str(self.deaths[player].shown)
        if player in self.teammates:
            return "fellow mafia"
        if player in self.findings:
            return f"found {self.findings[player]}"
        return ""

    def card(self) -> Text:
        """The role card: who the seat is and what it has learned."""
        if self.role is None:
            return Text("Your role is dealt at the start.", style="muted")
        name = Text(self.seat, style=f"bold {self.renderer.colours.get(self.seat, 'white')}")
        text = Text.assemble("You are ", name, ": ", (self.role, side_style(self.role)),
                             f" ({self.team})")
        about = role_text.text(self.role, "person")
        if about:
            text.append("\n" + about)
        if self.teammates:
            text.append("\nFellow mafia: " + ", ".join(self.teammates))
        if self.findings:
            text.append("\nFindings: " + ", ".join(f"{p} is {r}" for p, r in self.findings.items()))
        if self.seat in self.deaths:
            text.append("\nYou are dead: you watch the rest of the game.", style="death")
        return text

    def players(self) -> Text:
        text = Text()
        for p in self.seats:
            if text:
                text.append("\n")
            dead = self.deaths.get(p)
            mark = "☠ " if dead else "• "
            text.append(mark, style="death" if dead else "town")
            text.append_text(Text(p, style=f"bold {self.renderer.colours.get(p, 'white')}"))
            known = self.label(p)
            if known:
                text.append(f" ({known})", style="muted")
            if dead:
                how = "killed" if dead.cause == "night" else "voted out"
                text.append(f", {how}, day {dead.day}", style="muted")
        return text

    def heading(self) -> str:
        """Day or night, the day's number and (clock games) the simulated time."""
        if self.over is not None:
            return "Game over"
        if self.phase is Phase.SETUP:
            return "Setting up"
        when = f"{self.phase.value.title()} {self.day}"
        return when if self.clock is None else f"{when} · {self.clock:.1f} s"

    def thinking(self, who: frozenset[str]) -> str:
        """Who is thinking, only as far as it is public: at night nothing (who is asked would
        name the mafia, the doctor and the detective); by day only when every living player
        is asked at once, which the rules make public (who alone is asked could give away a
        secret bid or a DM between others)."""
        if self.phase is not Phase.DAY or not who:
            return ""
        return "everyone is thinking" if set(self.alive) <= who else ""
