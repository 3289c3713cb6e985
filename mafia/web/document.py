"""The data a web replay page shows: one point of view per entry of `views`, each holding only
the events that view may see (View.sees), with their prose from the terminal's renderer.

A spectator or one-seat export carries that one view and nothing else: what the page hides is
absent from the file, not hidden by CSS. An omniscient export carries every view (omniscient,
spectator, each seat) and the page switches between them."""

from __future__ import annotations

from typing import Any

from rich.console import Console, RenderableType
from rich.text import Text

from mafia.claims import detect_claims
from mafia.enums import Role, Team
from mafia.events import (
    BaseEvent, GameOver, GameStarted, InvestigationResult, LastWords, Message, NightAction,
    PlayerDied, RoleAssigned, Typing, VoteCast, VoteResult,
)
from mafia.render import THEME, Renderer, View, agent_label, side_style
from mafia.transcript import ReadResult

FORMAT = "mafia-web/1"


def view_key(view: View) -> str:
    return "public" if view.public else (view.seat or "omniscient")


def view_label(view: View) -> str:
    if view.public:
        return "Spectator (public only)"
    return f"As {view.seat}" if view.seat else "Omniscient (everything)"


def document(read: ReadResult, views: list[View], source: str = "") -> dict[str, Any]:
    """The page's data for these views, in order (the first is shown first)."""
    start = next((e for e in read.events if isinstance(e, GameStarted)), None)
    if start is None:
        raise ValueError("the transcript has no game_started header")
    seats = [str(p["name"]) for p in start.players]
    players = [{"name": p["name"], "agent": agent_label(p["agent"]),
                "model": p["agent"].get("model"), "profile": p["agent"].get("profile"),
                "adapter": p["agent"].get("adapter")} for p in start.players]
    over = next((e for e in read.events if isinstance(e, GameOver)), None)
    return {
        "format": FORMAT, "source": source,
        "game": {"seed": start.seed, "version": start.version, "config": start.config,
                 "seats": seats, "players": players,
                 "clock": start.config.get("discussion") == "clock",
                 # role (or team word) -> "town", "mafia" or "own", for the page's colours
                 "sides": {**{r.value: _side(r.team.value) for r in Role},
                           **{t.value: _side(t.value) for t in Team}},
                 "finished": over is not None},
        "views": {view_key(v): _view(read.events, v, seats) for v in views},
        "order": [view_key(v) for v in views],
    }


def _view(events: list[BaseEvent], view: View, seats: list[str]) -> dict[str, Any]:
    renderer = Renderer(view)
    console = Console(theme=THEME, width=100, record=True, file=_Null(), highlight=False)
    items: list[dict[str, Any]] = []
    votes: dict[int, dict[str, Any]] = {}
    for e in events:
        if not view.sees(e):
            continue
        shown = renderer.render(e)
        item = _item(e, shown, console, seats, view)
        if item is not None:
            items.append(item)
        if isinstance(e, VoteCast):
            day = votes.setdefault(e.day, _day_votes(e.day))
            day["votes"][e.voter] = e.target
        elif isinstance(e, VoteResult):
            day = votes.setdefault(e.day, _day_votes(e.day))
            day.update(eliminated=e.eliminated, tally=e.tally, tie=e.tie, seq=e.seq)
        elif isinstance(e, (Message, LastWords)) and getattr(e, "channel", "public") == "public":
            speaker = e.sender if isinstance(e, Message) else e.player
            for claim in detect_claims(e.text, speaker, tuple(seats)):
                if claim.kind == "accuse":
                    day = votes.setdefault(e.day, _day_votes(e.day))
                    day["accused"].append([speaker, claim.subject, e.seq])
    return {"label": view_label(view), "seat": view.seat, "public": view.public,
            "items": items, "votes": [votes[d] for d in sorted(votes)]}


def _side(side: str) -> str:
    return side if side in ("town", "mafia") else "own"


def _day_votes(day: int) -> dict[str, Any]:
    return {"day": day, "votes": {}, "accused": [], "eliminated": None, "tally": {},
            "tie": False, "seq": None}


def _item(e: BaseEvent, shown: RenderableType | None, console: Console, seats: list[str],
          view: View) -> dict[str, Any] | None:
    """One timeline step: where it goes (lane), its prose, and what it reveals."""
    base: dict[str, Any] = {"seq": e.seq, "day": e.day, "phase": e.phase.value,
                            "kind": e.kind}
    if isinstance(e, (GameStarted, VoteCast)):
        return None  # the header is the page's own; votes come with the day's vote table
    if isinstance(e, RoleAssigned):
        if view.seat is None and not view.public:  # omniscient: every role from the start
            return {**base, "lane": "system", "text": f"{e.player} is {e.role} ({e.team.value})",
                    "reveal": {e.player: e.role}, "quiet": True}
        if shown is None:
            return None
        return {**base, "lane": "system", "text": _plain(shown, console),
                "reveal": {e.player: e.role, **{m: "mafia" for m in e.teammates}}}
    if e.kind == "phase_started":
        return {**base, "lane": "phase", "text": f"{e.phase.value.title()} {e.day}"}
    if shown is None and not isinstance(e, (Typing, VoteResult)):
        return None
    item = {**base, "text": _plain(shown, console) if shown is not None else ""}
    if isinstance(e, Message):
        item["who"] = e.sender
        item["t"] = e.t
        if e.channel.value == "dm":
            item.update(lane="dm", to=e.recipient,
                        thread=" & ".join(sorted([e.sender, e.recipient or "?"])))
            item["text"] = e.text
        else:
            item.update(lane=e.channel.value, text=e.text)
    elif isinstance(e, LastWords):
        item.update(lane="public", who=e.player, text=e.text, last=True)
    elif isinstance(e, Typing):
        item.update(lane="typing", who=e.player, to=e.recipient, t=e.t,
                    text=f"{e.player} is typing…")
    elif isinstance(e, (NightAction, InvestigationResult)) or e.kind in ("kill_decided",
                                                                          "floor_bids",
                                                                          "invalid_action"):
        item["lane"] = "night" if e.phase.value == "night" else "system"
        if isinstance(e, InvestigationResult):
            item["learned"] = {e.target: e.result}
    elif isinstance(e, PlayerDied):
        item["lane"] = "death"
        item["dead"] = e.player
        shown_as = e.role or (e.team.value if e.team else None)
        if shown_as:
            item["reveal"] = {e.player: shown_as}
    elif isinstance(e, GameOver):
        item.update(lane="end", winner=e.winner.value, reason=e.reason, roles=e.roles,
                    reveal=dict(e.roles), styles={p: side_style(r) for p, r in e.roles.items()})
    elif isinstance(e, VoteResult):
        item.update(lane="vote", eliminated=e.eliminated, tally=e.tally, tie=e.tie)
    else:
        item["lane"] = "system"
    return item


def _plain(shown: RenderableType, console: Console) -> str:
    if isinstance(shown, Text):
        return shown.plain.strip()
    console.print(shown)
    return console.export_text(clear=True).strip()


class _Null:
    """A file that drops what the recording console writes (it keeps its own record)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
