"""A second referee, for tests and for bot authors (`mafia check`), as PettingZoo ships its
api_test: it re-derives what the rules allow, independently of the engine, and fails loudly
where a game departs from them.

`GameChecker` is an event sink (pass it to `Engine(sinks=[...])`). It keeps its own state, built
only from the events it has seen, and checks each new event against the rules before applying
it. `CheckedPlayer` wraps any player and checks every Request it receives (observation,
options, rules) against the same state. A violation is an AssertionError naming it (a
request's, a `RequestCheckFailed`); `run_checked` plays one game under both.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mafia import rules as R
from mafia.config import SEAT_NAMES, Rules
from mafia.decisions import ABSTAIN, SAY, WAIT, DayAction, Request
from mafia.engine import Engine, GameResult
from mafia.enums import Channel, DecisionKind, Phase, Role, Team, Winner
from mafia.events import (
    BaseEvent, GameOver, GameStarted, InvalidAction, InvestigationResult, KillDecided,
    LastWords, Message, ModelCall, NightAction, NobodyDied, PhaseStarted, PlayerDied,
    FloorBids, RoleAssigned, Typing, VoteCast, VoteResult,
)
from mafia.discussion import protocol
from mafia.discussion.bidding import BIDS
from mafia.discussion.clock import typing_seconds
from mafia.state import GameState

from mafia.agents.random_player import RandomPlayer

_KEEP_FORMAT = {"\u200d", "\ufe0f"}  # invisible characters clean_speech deliberately keeps


def bad_text_reason(text: str, speaker: str, seats: Sequence[str], max_chars: int) -> str | None:
    """Why a published message text is not clean (None when it is)."""
    if not text:
        return "empty message published"
    if len(text) > max_chars:
        return f"{len(text)} chars > max_message_chars {max_chars}"
    if text != text.strip():
        return "leading/trailing whitespace"
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cc" or (cat[0] == "C" and ch not in _KEEP_FORMAT):
            return f"control/format character {ch!r}"
    for other in seats:
        if other != speaker and text.startswith(f"{other}:"):
            return f"impersonates {other}"
    return None


@dataclass
class _NightLog:
    kills: list[str] = field(default_factory=list)
    kill_actors: list[str] = field(default_factory=list)
    protected: set[str] = field(default_factory=set)
    investigations: list[tuple[str, str]] = field(default_factory=list)
    shots: list[str] = field(default_factory=list)
    chats: int = 0
    decided: bool = False
    target: str | None = None
    results: int = 0


class GameChecker:
    """Event sink that checks every event against the rules and what came before it."""

    def __init__(self, rules: Rules, *, allow_invalid: bool = False) -> None:
        self.rules = rules
        self.allow_invalid = allow_invalid
        self.seats = SEAT_NAMES[: rules.players]
        self.state = GameState()  # rebuilt here, only from events this sink received
        self.events: list[BaseEvent] = []
        self.seen: dict[str, list[BaseEvent]] = {n: [] for n in self.seats}
        self.asked: Counter[str] = Counter()
        self.requests: list[Request] = []
        self.night = _NightLog()
        self.doctor_last: dict[str, str] = {}  # doctor -> whom they protected last night
        self.doctor_prev: dict[str, str] = {}  # frozen at night start: the rule's "last"
        self.shot_used: set[str] = set()  # vigilantes who fired their one shot
        self.dawn: list[str] = []  # night deaths still to be announced, in seat order
        self.votes: dict[str, str | None] = {}
        self.voted_today = False
        self.eliminated: str | None = None  # voted out, not yet dead
        self.awaiting_dawn = False  # a day began after a night: a death notice comes first
        self.pending_fallback: dict[str, str] = {}
        self.expected_phase: tuple[Phase, int] = (rules.first, 1)
        self.invalid: list[InvalidAction] = []
        self.game_over: GameOver | None = None
        self.talks = protocol(rules.discussion).active(rules)  # anyone asked by day at all
        self.last_t = 0.0  # clock: the latest simulated time a message landed today
        self.bid_fallbacks: dict[str, str] = {}
        self.floor: str | None = None  # bidding: who holds the floor this turn

    # ---- helpers ------------------------------------------------------------------------

    def living_mafia(self) -> list[str]:
        """The mafia side: mafia and godfathers (they know each other and kill together)."""
        return [p for p in self.state.alive if self.state.roles[p] in _MAFIA_SIDE]

    def win_now(self) -> Winner | None:
        if len(self.state.roles) < len(self.seats) or not self.state.alive:
            return None
        mafia = len(self.living_mafia())
        town = len(self.state.alive) - mafia
        if mafia == 0:
            return Winner.TOWN
        if mafia >= town:
            return Winner.MAFIA
        return None

    def protect_options(self, doctor: str) -> tuple[str, ...]:
        return R.protect_options(doctor, list(self.state.alive), self.doctor_prev.get(doctor),
                                 self.rules.doctor_self_save, self.rules.doctor_repeat_save)

    def others(self, player: str) -> tuple[str, ...]:
        return tuple(p for p in self.state.alive if p != player)

    def day_options(self, player: str) -> tuple[object, ...]:
        opts: list[object] = [WAIT]
        cap = self.rules.max_public_messages_per_day
        if cap is None or self.state.public_messages_today < cap:
            opts.append(SAY)
        if self.state.dms_sent_today[player] < self.rules.dm_limit_per_day:
            opts.extend(DayAction("dm", p) for p in self.others(player))
        return tuple(opts)

    def legal_options(self, player: str, kind: DecisionKind) -> tuple[object, ...]:
        """The options a request of `kind` for `player` must carry right now."""
        st, role = self.state, self.state.roles[player]
        if kind is DecisionKind.KILL:
            assert role in _MAFIA_SIDE and st.phase is Phase.NIGHT, (player, kind)
            return tuple(p for p in st.alive if st.roles[p] not in _MAFIA_SIDE)
        if kind is DecisionKind.PROTECT:
            assert role is Role.DOCTOR and st.phase is Phase.NIGHT, (player, kind)
            return self.protect_options(player)
        if kind is DecisionKind.INVESTIGATE:
            assert role is Role.DETECTIVE and st.phase is Phase.NIGHT, (player, kind)
            return self.others(player)
        if kind is DecisionKind.SHOOT:
            assert role is Role.VIGILANTE and st.phase is Phase.NIGHT, (player, kind)
            assert player not in self.shot_used, f"{player} asked to shoot a second time"
            return self.others(player) + (ABSTAIN,)
        if kind is DecisionKind.VOTE:
            assert st.phase is Phase.DAY, kind
            extra = (ABSTAIN,) if self.rules.allow_abstain else ()
            return self.others(player) + extra
        if kind is DecisionKind.DAY_ACTION:
            assert st.phase is Phase.DAY and self.talks, kind
            if self.rules.discussion == "bidding":
                assert player == self.floor, f"{player} asked to speak without the floor"
                self.floor = None
            return self.day_options(player)
        if kind is DecisionKind.BID:
            assert st.phase is Phase.DAY and self.rules.discussion == "bidding", kind
            return BIDS
        if kind is DecisionKind.MAFIA_CHAT:
            assert role in _MAFIA_SIDE and st.phase is Phase.NIGHT, (player, kind)
            assert len(self.living_mafia()) > 1, "mafia chat asked of a lone mafioso"
            return ()
        if kind is DecisionKind.LAST_WORDS:
            assert self.rules.last_words and player == self.eliminated, (player, kind)
            return ()
        raise AssertionError(f"unknown decision kind {kind}")

    # ---- requests (called by CheckedPlayer) -----------------------------------------------

    def check_request(self, request: Request) -> None:
        p, obs, st = request.player, request.observation, self.state
        self.requests.append(request)
        assert self.game_over is None, "a request after game_over"
        assert st.is_alive(p), f"dead player {p} was asked for {request.kind}"
        assert request.index == self.asked[p], (p, request.index, self.asked[p])
        self.asked[p] += 1
        assert request.max_chars == self.rules.max_message_chars
        assert request.rules == self.rules  # every request carries the game's rules
        assert request.options == self.legal_options(p, request.kind), (
            f"{p} {request.kind}: options {request.options!r}")
        # The observation: exactly this player's view of the state, nothing more.
        assert obs.player == p and obs.role is st.roles[p]
        mates = tuple(m for m in self.seats if m != p and st.roles[m] in _MAFIA_SIDE)
        assert obs.teammates == (mates if st.roles[p] in _MAFIA_SIDE else ())
        assert (obs.day, obs.phase) == (st.day, st.phase)
        assert obs.seats == self.seats and obs.alive == tuple(st.alive) and obs.order == st.order
        # Equal to the events this player may see (each checked for leaks as it was emitted).
        assert obs.events == tuple(self.seen[p]), f"{p}'s observation is not its own view"

    # ---- events (the sink) --------------------------------------------------------------

    def __call__(self, event: BaseEvent) -> None:
        assert self.game_over is None, f"{event.kind} after game_over"
        assert event.seq == len(self.events), f"seq {event.seq}, expected {len(self.events)}"
        st = self.state
        if not isinstance(event, (GameStarted, RoleAssigned, PhaseStarted, GameOver)):
            assert (event.day, event.phase) == (st.day, st.phase), (
                f"{event.kind} stamped {event.day}/{event.phase}, state {st.day}/{st.phase}")
        if self.awaiting_dawn:
            assert isinstance(event, (NobodyDied, PlayerDied)), (
                f"{event.kind} before the dawn announcement")
        # Every night death is announced before the win is checked.
        dawn = isinstance(event, PlayerDied) and event.player in self.dawn
        if not isinstance(event, GameOver) and not dawn:
            assert self.win_now() is None, f"game went on ({event.kind}) after a win"
        getattr(self, f"_{event.kind}")(event)
        st.apply(event)
        self.events.append(event)
        for name in self.seats:
            if event.visible_for(name):
                check_no_leaks(name, self.state.roles.get(name), [event])
                self.seen[name].append(event)

    def _game_started(self, e: GameStarted) -> None:
        assert e.seq == 0 and e.phase is Phase.SETUP and e.visible_to is None
        assert [p["name"] for p in e.players] == list(self.seats)
        assert all(set(p) == {"name", "agent"} for p in e.players), "roles leak in header"
        assert e.config == self.rules.model_dump(mode="json")
        self.seed = e.seed

    def _role_assigned(self, e: RoleAssigned) -> None:
        assert e.phase is Phase.SETUP and e.visible_to == (e.player,)
        assert e.player not in self.state.roles, f"{e.player} dealt twice"
        assert Role(e.role).team is e.team

    def _check_deal(self) -> None:
        roles = self.state.roles
        assert Counter(roles.values()) == Counter(self.rules.role_list()), "wrong role counts"
        mafia = [p for p in self.seats if roles[p] in _MAFIA_SIDE]
        for e in self.events:
            if isinstance(e, RoleAssigned):
                want = tuple(m for m in mafia if m != e.player) if e.team is Team.MAFIA else ()
                assert e.teammates == want, (e.player, e.teammates)

    def _phase_started(self, e: PhaseStarted) -> None:
        assert e.visible_to is None
        assert (e.phase, e.day) == self.expected_phase, ((e.phase, e.day), self.expected_phase)
        assert e.day <= self.rules.max_days
        assert e.order == R.round_order(self.seed, e.day, self.seats), "not the round's order"
        if self.state.phase is Phase.SETUP:
            self._check_deal()
        first_night = self.rules.first is Phase.NIGHT
        if e.phase is Phase.NIGHT:
            if self.state.phase is Phase.DAY:
                assert self.voted_today, "a day ended without a vote"
            self.night = _NightLog()
            self.doctor_prev = dict(self.doctor_last)
            self.expected_phase = (Phase.DAY, e.day if first_night else e.day + 1)
        else:
            if self.state.phase is Phase.NIGHT:
                assert self.night.decided, "a night ended without kill_decided"
                n_det = len(self.night.investigations)
                assert self.night.results == n_det, "an investigation got no result"
                self.awaiting_dawn = True
                n = self.night
                dead = {t for t in [n.target, *n.shots] if t is not None and t not in n.protected}
                self.dawn = [p for p in self.seats if p in dead]
            self.votes, self.voted_today = {}, False
            self.last_t, self.floor = 0.0, None
            self.expected_phase = (Phase.NIGHT, e.day + 1 if first_night else e.day)

    def _message(self, e: Message) -> None:
        st = self.state
        assert st.is_alive(e.sender), f"dead {e.sender} spoke"
        reason = bad_text_reason(e.text, e.sender, self.seats, self.rules.max_message_chars)
        assert reason is None, f"message {e.text[:80]!r}: {reason}"
        self._check_time(e)
        if e.channel is Channel.PUBLIC:
            assert e.phase is Phase.DAY and e.visible_to is None and e.recipient is None
            assert self.talks
            cap = self.rules.max_public_messages_per_day
            assert cap is None or st.public_messages_today < cap, "public cap exceeded"
        elif e.channel is Channel.DM:
            assert e.phase is Phase.DAY and e.recipient is not None
            assert st.is_alive(e.recipient), f"DM to dead {e.recipient}"
            assert e.recipient != e.sender
            assert e.visible_to == (e.sender, e.recipient), f"DM visible to {e.visible_to}"
            assert st.dms_sent_today[e.sender] < self.rules.dm_limit_per_day, "DM limit exceeded"
        else:
            mafia = self.living_mafia()
            assert e.phase is Phase.NIGHT and e.sender in mafia and len(mafia) > 1
            assert e.visible_to is not None and sorted(e.visible_to) == sorted(mafia)
            self.night.chats += 1
            assert self.night.chats <= self.rules.night_chat_rounds * len(mafia)

    def _check_time(self, e: Message) -> None:
        """Clock messages land in time order, within the day, after their typing time."""
        clock = self.rules.discussion == "clock" and e.phase is Phase.DAY
        assert (e.t is not None and e.started is not None) == clock, (e.t, e.started)
        if e.t is None or e.started is None:
            return
        assert self.last_t <= e.t <= self.rules.day_seconds, (self.last_t, e.t)
        typed = typing_seconds(e.text, self.rules.words_per_second)
        assert abs(e.t - e.started - typed) < 1e-9, (e.t, e.started, typed)
        self.last_t = e.t

    def _typing(self, e: Typing) -> None:
        assert self.rules.discussion == "clock" and self.rules.typing_events
        assert e.phase is Phase.DAY and self.state.is_alive(e.player)
        assert self.last_t <= e.t <= self.rules.day_seconds
        if e.channel is Channel.DM:
            assert e.visible_to == (e.player, e.recipient)
        else:
            assert e.visible_to is None and e.recipient is None

    def _floor_bids(self, e: FloorBids) -> None:
        assert self.rules.discussion == "bidding" and e.phase is Phase.DAY
        assert e.visible_to == (), "bids are seen by no player"
        assert list(e.bids) == list(self.state.alive), "every living player bids"
        assert all(str(b) in BIDS for b in e.bids.values())
        for p, fallback in self.bid_fallbacks.items():
            assert str(e.bids[p]) == fallback, "bid fallback not used"
        self.bid_fallbacks = {}
        top = max(e.bids.values())
        if top == 0:
            assert e.speaker is None
        else:
            assert e.speaker is not None and e.bids[e.speaker] == top
        self.floor = e.speaker

    def _night_action(self, e: NightAction) -> None:
        st, n = self.state, self.night
        assert e.phase is Phase.NIGHT and st.is_alive(e.actor), f"dead {e.actor} acted"
        assert not n.decided, "night action after kill_decided"
        role = st.roles[e.actor]
        self._use_fallback(e.actor, e.target)
        if e.action == "kill":
            assert role in _MAFIA_SIDE and e.actor not in n.kill_actors
            assert e.target in self.legal_options(e.actor, DecisionKind.KILL), e
            assert e.visible_to is not None and sorted(e.visible_to) == sorted(self.living_mafia())
            n.kills.append(e.target)
            n.kill_actors.append(e.actor)
        elif e.action == "protect":
            assert role is Role.DOCTOR and e.visible_to == (e.actor,)
            assert e.target in self.protect_options(e.actor), e
            n.protected.add(e.target)
            self.doctor_last[e.actor] = e.target
        elif e.action == "shoot":
            assert role is Role.VIGILANTE and e.visible_to == (e.actor,)
            assert e.actor not in self.shot_used and e.target in self.others(e.actor), e
            n.shots.append(e.target)
            self.shot_used.add(e.actor)
        else:
            assert role is Role.DETECTIVE and e.visible_to == (e.actor,)
            assert e.target in self.others(e.actor), e
            n.investigations.append((e.actor, e.target))

    def _kill_decided(self, e: KillDecided) -> None:
        n = self.night
        assert not n.decided and e.phase is Phase.NIGHT
        assert e.visible_to is not None and sorted(e.visible_to) == sorted(self.living_mafia())
        assert len(n.kill_actors) == len(self.living_mafia()), "a mafioso did not choose"
        counts = Counter(n.kills)
        assert counts and e.tally == dict(counts)
        top = max(counts.values())
        leaders = {t for t, c in counts.items() if c == top}
        assert e.tie == (len(leaders) > 1) and e.target in leaders
        n.decided, n.target = True, e.target

    def _investigation_result(self, e: InvestigationResult) -> None:
        n = self.night
        assert n.decided and e.visible_to == (e.detective,)
        assert (e.detective, e.target) == n.investigations[n.results]
        role = self.state.roles[e.target]
        if role is Role.GODFATHER:  # shows as a villager
            role = Role.VILLAGER
        want = role.value if self.rules.detective_learns == "role" else role.team.value
        assert e.result == want
        n.results += 1

    def _nobody_died(self, e: NobodyDied) -> None:
        assert self.awaiting_dawn and e.visible_to is None and not self.dawn
        assert self.night.target is None or self.night.target in self.night.protected
        self.awaiting_dawn = False

    def _player_died(self, e: PlayerDied) -> None:
        st = self.state
        assert e.visible_to is None and st.is_alive(e.player), f"{e.player} died twice"
        if e.cause == "night":
            assert self.awaiting_dawn, "a night death outside dawn"
            assert self.dawn and e.player == self.dawn[0], (e.player, self.dawn)
            self.dawn.pop(0)
            self.awaiting_dawn = bool(self.dawn)
        else:
            assert e.player == self.eliminated, (e.player, self.eliminated)
            self.eliminated = None
        role = st.roles[e.player]
        reveal = self.rules.reveal_on_death
        assert e.role == (role.value if reveal == "role" else None)
        assert e.team == (role.team if reveal in ("role", "team") else None)

    def _vote_cast(self, e: VoteCast) -> None:
        st = self.state
        assert e.phase is Phase.DAY and e.visible_to is None
        assert st.is_alive(e.voter), f"dead {e.voter} voted"
        assert e.voter not in self.votes, f"{e.voter} voted twice"
        assert not self.voted_today
        if e.target is None:
            assert self.rules.allow_abstain, "abstention without allow_abstain"
        else:
            assert st.is_alive(e.target) and e.target != e.voter, e
        self._use_fallback(e.voter, e.target)
        self.votes[e.voter] = e.target

    def _vote_result(self, e: VoteResult) -> None:
        assert e.visible_to is None and not self.voted_today
        assert set(self.votes) == set(self.state.alive), "not every living player voted"
        counts = Counter(t for t in self.votes.values() if t is not None)
        assert e.tally == dict(counts)
        leaders = {t for t, c in counts.items() if c == max(counts.values())} if counts else set()
        assert e.tie == (len(leaders) > 1)
        if not leaders or (e.tie and self.rules.tie_policy == "none"):
            assert e.eliminated is None
        else:
            assert e.eliminated in leaders
        self.voted_today, self.eliminated = True, e.eliminated

    def _last_words(self, e: LastWords) -> None:
        assert self.rules.last_words and e.visible_to is None
        assert e.player == self.eliminated and self.state.is_alive(e.player)
        reason = bad_text_reason(e.text, e.player, self.seats, self.rules.max_message_chars)
        assert reason is None, f"last words {e.text[:80]!r}: {reason}"

    def _invalid_action(self, e: InvalidAction) -> None:
        assert self.allow_invalid, f"unexpected invalid action: {e}"
        assert e.visible_to == (e.player,) and self.state.is_alive(e.player)
        self.invalid.append(e)
        kind = DecisionKind(e.decision)
        if kind in (DecisionKind.MAFIA_CHAT, DecisionKind.LAST_WORDS):
            assert e.fallback is None
        elif kind is DecisionKind.DAY_ACTION:
            assert e.fallback == str(WAIT)
        elif kind is DecisionKind.BID:
            assert e.fallback == BIDS[0]
            self.bid_fallbacks[e.player] = e.fallback
        elif kind is DecisionKind.SHOOT:
            assert e.fallback == ABSTAIN, "a failed answer must not fire the vigilante's shot"
        else:
            legal = [str(o) for o in self.legal_options(e.player, kind) if o != ABSTAIN]
            assert e.fallback in legal, (e, legal)
            self.pending_fallback[e.player] = e.fallback

    def _use_fallback(self, player: str, target: str | None) -> None:
        if player in self.pending_fallback:
            assert target == self.pending_fallback.pop(player), "fallback was not used"

    def _model_call(self, e: ModelCall) -> None:
        assert e.visible_to == (e.player,)

    def _game_over(self, e: GameOver) -> None:
        st = self.state
        assert e.visible_to is None and e.phase is Phase.END and e.days == st.day
        assert not self.pending_fallback and self.eliminated is None and not self.dawn
        assert e.roles == {p: st.roles[p].value for p in self.seats}
        mafia = len(self.living_mafia())
        town = len(st.alive) - mafia
        last = self.events[-1]
        if e.winner is Winner.JESTER:  # voted out, and the game ends at once
            assert isinstance(last, PlayerDied) and last.cause == "vote"
            assert st.roles[last.player] is Role.JESTER
        elif e.winner is Winner.TOWN:
            assert mafia == 0
        elif e.winner is Winner.MAFIA:
            assert 0 < mafia and mafia >= town
        else:
            assert st.day == self.rules.max_days and 0 < mafia < town
            assert st.phase is Phase.DAY and self.voted_today
        if e.winner is not Winner.DRAW:
            assert isinstance(self.events[-1], PlayerDied), "win declared but nobody died"
        self.game_over = e

    # ---- the end --------------------------------------------------------------------------

    def finish(self, result: GameResult) -> None:
        """After the game: exactly one game_over, last; the engine's state is our state."""
        assert self.game_over is not None, "no game_over"
        assert self.events == result.events and self.events[-1] is self.game_over
        assert sum(isinstance(e, GameOver) for e in result.events) == 1
        assert result.winner is self.game_over.winner
        assert self.state == result.state, "state rebuilt from events differs from engine's"
        assert self.state.winner is result.winner and self.state.phase is Phase.END


def check_no_leaks(player: str, role: Role | None, events: Sequence[BaseEvent]) -> None:
    """The explicit privacy rules: what `player` must never have in its observation."""
    mafia = role in _MAFIA_SIDE
    for e in events:
        assert e.visible_for(player), f"{player} sees {e.kind} meant for {e.visible_to}"
        if isinstance(e, RoleAssigned):
            assert e.player == player, f"{player} sees {e.player}'s role"
        elif isinstance(e, Message) and e.channel is Channel.DM:
            assert player in (e.sender, e.recipient), f"{player} reads a DM of others"
        elif isinstance(e, Message) and e.channel is Channel.MAFIA:
            assert mafia, f"town player {player} reads the mafia channel"
        elif isinstance(e, NightAction):
            assert e.actor == player or (mafia and e.action == "kill"), (
                f"{player} sees {e.actor}'s {e.action}")
        elif isinstance(e, KillDecided):
            assert mafia, f"town player {player} sees kill_decided"
        elif isinstance(e, InvestigationResult):
            assert e.detective == player, f"{player} sees {e.detective}'s investigation"
        elif isinstance(e, (InvalidAction, ModelCall)):
            assert e.player == player


# Written out here rather than read from the role specs: this referee checks the engine
# against its own statement of the rules.
_MAFIA_SIDE = frozenset({Role.MAFIA, Role.GODFATHER})


class RequestCheckFailed(BaseException):
    """A bad Request. A BaseException on purpose: the engine turns a player's ordinary
    exceptions into invalid_action events, which would hide the failure."""


class CheckedPlayer:
    """Wraps a player; every request it gets is checked before the inner player answers."""

    def __init__(self, inner: Any, checker: GameChecker) -> None:
        self.inner, self.checker = inner, checker

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    async def act(self, request: Request) -> Any:
        try:
            self.checker.check_request(request)
        except AssertionError as exc:
            raise RequestCheckFailed(f"{request.player} {request.kind}: {exc}") from exc
        return await self.inner.act(request)

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()


async def run_checked(
    rules: Rules, seed: int, players: Sequence[Any] | None = None, *,
    allow_invalid: bool = False, sinks: Sequence[Any] = (), timeout_s: float | None = None,
) -> tuple[GameResult, GameChecker]:
    """Play one game with every event and request checked; return the result and checker."""
    checker = GameChecker(rules, allow_invalid=allow_invalid)
    inner = list(players) if players is not None else [RandomPlayer(seed, seat) for seat in range(rules.players)]
    wrapped = [CheckedPlayer(p, checker) for p in inner]
    engine = Engine(rules, seed, wrapped, sinks=[checker, *sinks], timeout_s=timeout_s)
    result = await engine.run()
    checker.finish(result)
    return result, checker
