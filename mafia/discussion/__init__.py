"""Discussion protocols: when players speak during the day. Each is a small module; the
engine looks the rules' `discussion` up here and runs it between dawn and the vote."""

from __future__ import annotations

from mafia.discussion.base import DayHost, Discussion
from mafia.discussion.bidding import Bidding
from mafia.discussion.clock import Clock
from mafia.discussion.moments import Moments
from mafia.discussion.round_robin import RoundRobin

PROTOCOLS: dict[str, type[Discussion]] = {
    "moments": Moments, "round_robin": RoundRobin, "bidding": Bidding, "clock": Clock,
}


def protocol(name: str) -> Discussion:
    return PROTOCOLS[name]()


__all__ = ["PROTOCOLS", "DayHost", "Discussion", "protocol"]
