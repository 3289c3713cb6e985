"""`round_robin` (as in TextArena and Mini-Mafia): `discussion_rounds` rounds per day; in
each, the living players take turns in a seeded order, each seeing everything said before
them, and may speak, DM someone or pass."""

from __future__ import annotations

from mafia.config import Rules
from mafia.enums import DecisionKind

from mafia.discussion.base import DayHost, commit


class RoundRobin:
    def active(self, rules: Rules) -> bool:
        return rules.discussion_rounds > 0

    async def run(self, host: DayHost, day: int) -> None:
        for _ in range(host.rules.discussion_rounds):
            alive = host.alive()
            for p in host.rng.sample(alive, len(alive)):
                (answer,) = await host.ask([(p, DecisionKind.DAY_ACTION, host.day_options(p))])
                commit(host, p, answer)
