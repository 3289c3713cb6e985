"""`moments`: `discussion_rounds` moments per day; in each, every living player decides at
once, without seeing the others' messages of the same moment. Answers are committed in a
seeded order, so the outcome never depends on which player finished thinking first."""

from __future__ import annotations

from mafia.config import Rules
from mafia.enums import DecisionKind

from mafia.discussion.base import DayHost, commit


class Moments:
    def active(self, rules: Rules) -> bool:
        return rules.discussion_rounds > 0

    async def run(self, host: DayHost, day: int) -> None:
        for _ in range(host.rules.discussion_rounds):
            alive = host.alive()
            order = host.rng.sample(alive, len(alive))
            asks = [(p, DecisionKind.DAY_ACTION, host.day_options(p)) for p in alive]
            answers = dict(zip(alive, await host.ask(asks)))
            for p in order:
                commit(host, p, answers[p])
