"""How the day's discussion protocol shapes talk, from the events alone: messages per day,
how evenly seats speak in public, and (clock games) how long players wait before typing.

Games are grouped by their rules' `discussion`; transcripts from before protocols existed
have no such key and were played as `moments`."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mafia.enums import Channel, Phase
from mafia.events import Message, PhaseStarted
from mafia.report.load import Game

DEFAULT_PROTOCOL = "moments"
ORDER = ("moments", "round_robin", "bidding", "clock")


def protocol_of(game: Game) -> str:
    return str(game.config.get("discussion", DEFAULT_PROTOCOL))


@dataclass
class ProtocolStats:
    games: int = 0
    days: int = 0  # day phases played
    public: int = 0  # public messages
    dms: int = 0
    by_seat: Counter[str] = field(default_factory=Counter)  # seat name -> public messages
    # Public messages each seat would have sent under equal shares (of its game's seats).
    expected: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    delays: list[float] = field(default_factory=list)  # clock: seconds, one per message

    def to_json(self) -> dict[str, Any]:
        seats = {name: {"messages": self.by_seat[name],
                        "share": self.by_seat[name] / self.public if self.public else None,
                        "expected": n / self.public if self.public else None}
                 for name, n in self.expected.items()}
        return {"games": self.games, "days": self.days,
                "public_per_day": _mean(self.public, self.days),
                "dm_per_day": _mean(self.dms, self.days),
                "speaking": {"seats": seats, **_extremes(seats)},
                "reply_delay": self.delay_json()}

    def delay_json(self) -> dict[str, Any] | None:
        if not self.delays:
            return None
        sd = statistics.stdev(self.delays) if len(self.delays) > 1 else None
        return {"n": len(self.delays), "mean": statistics.fmean(self.delays), "sd": sd}


def protocol_stats(games: Sequence[Game]) -> dict[str, ProtocolStats]:
    """Per protocol, in a fixed order (known protocols first), whatever the file order."""
    out: dict[str, ProtocolStats] = {}
    for game in games:
        _game(out.setdefault(protocol_of(game), ProtocolStats()), game)
    rank = {name: i for i, name in enumerate(ORDER)}
    return {k: out[k] for k in sorted(out, key=lambda k: (rank.get(k, len(ORDER)), k))}


def _game(s: ProtocolStats, game: Game) -> None:
    s.games += 1
    public = 0
    by_day: dict[int, list[Message]] = defaultdict(list)
    for event in game.events:
        if isinstance(event, PhaseStarted) and event.phase is Phase.DAY:
            s.days += 1
        elif isinstance(event, Message) and event.channel is Channel.PUBLIC:
            s.by_seat[event.sender] += 1
            public += 1
        elif isinstance(event, Message) and event.channel is Channel.DM:
            s.dms += 1
        if isinstance(event, Message) and event.t is not None:
            by_day[event.day].append(event)
    s.public += public
    for name in game.seats:
        s.expected[name] += public / len(game.seats)
    for messages in by_day.values():
        s.delays.extend(reply_delays(messages))


def reply_delays(day: Sequence[Message]) -> list[float]:
    """For each timed message of one day: when its author started typing, minus when the
    latest message the author could see (its own included) landed at or before that; the
    day's start (0) when none had. A player who reacts at once scores 0."""
    out = []
    for m in day:
        if m.started is None:
            continue
        seen = [x.t for x in day if x is not m and x.t is not None and x.t <= m.started
                and x.visible_for(m.sender)]
        out.append(m.started - max(seen, default=0.0))
    return out


def _extremes(seats: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The seats with the largest and smallest public share over their equal share."""
    ranked = sorted((s["share"] / s["expected"], name) for name, s in seats.items()
                    if s["share"] is not None and s["expected"])
    if not ranked:
        return {"most": None, "least": None}
    pick = {"most": ranked[-1][1], "least": ranked[0][1]}
    return {k: {"seat": name, "share": seats[name]["share"],
                "expected": seats[name]["expected"]} for k, name in pick.items()}


def _mean(total: float, n: int) -> float | None:
    return total / n if n else None
