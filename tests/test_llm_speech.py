"""What the language-model player adds around the model's own choices and words, with the
scripted backend: public messages open with a name the model picked, repeats are drawn
again, the state block says what the seat knows (and only that), name lists are shuffled by
the call's seed, and vote prefixes name the team the voter hunts."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Any

from test_heuristic import SEATS, Script, day_options

from mafia.decisions import SAY, Answer
from mafia.enums import Channel, DecisionKind, Phase, Role, Team
from mafia.events import InvestigationResult, Message, PhaseStarted, PlayerDied, VoteCast

from mafia.agents.backends.base import Choice
from mafia.agents.backends.fake import ScriptedBackend
from mafia.agents.llm_player import REPEAT_RETRIES, LLMPlayer, normalise
from mafia.agents.prompting import PromptBook, claimed_mafia, state_facts, voted_out_mafia

BOOK = PromptBook()


def _player(texts: list[str], choices: list[Any]) -> tuple[LLMPlayer, ScriptedBackend]:
    backend = ScriptedBackend(texts=texts, choices=choices)
    return LLMPlayer(backend, seed=5, seat=0, style="completion", book=BOOK), backend


def _act(player: LLMPlayer, request: Any) -> Answer:
    return asyncio.run(player.act(request))


def _day(me: str = "Alice", role: Role = Role.VILLAGER) -> Script:
    s = Script()
    s.start(me, role)
    s.add(PhaseStarted)
    return s


def test_a_public_message_opens_with_the_name_the_model_picked() -> None:
    """speak -> whom about (a choice among the other living players) -> "NAME is" + text."""
    s = _day()
    player, backend = _player([" lying, I saw it."], ["speak", "Dave"])
    got = _act(player, s.request("Alice", Role.VILLAGER, DecisionKind.DAY_ACTION,
                                 day_options("Alice")))
    assert got.choice == SAY and got.text == "Dave is lying, I saw it."
    assert [c.purpose for c in got.calls] == ["choice", "choice", "text"]
    assert backend.prompts[1].endswith("Alice now speaks to everyone about the mafia player")
    assert backend.prompts[2].endswith("Alice: Dave is")


def test_the_address_and_the_message_reuse_the_moves_state_block() -> None:
    """After a discussion move, the address and the message list names in the move's order,
    so their prompts equal the move's up to its options (the cached prefix runs that far)."""
    for seed in range(8):
        s = _day()
        backend = ScriptedBackend(texts=[" lying."], choices=["speak", "Dave"])
        player = LLMPlayer(backend, seed=seed, seat=2, style="completion", book=BOOK)
        _act(player, s.request("Alice", Role.VILLAGER, DecisionKind.DAY_ACTION,
                               day_options("Alice")))
        move, address, message = backend.prompts
        end = move.index("\nAlice is villager.\n") + len("\nAlice is villager.\n")
        block = move[:end]  # the header, the log and the state block (then the options)
        assert "\nNow: " in block and address.startswith(block) and message.startswith(block)


def test_a_detective_speaking_about_a_player_it_checked_reports_the_check() -> None:
    """The opening follows whom the model picked: "I checked Dave:" for a player the
    detective checked (whatever it found), "NAME is" for anyone else."""
    s = _day("Alice", Role.DETECTIVE)
    s.add(InvestigationResult, visible_to=("Alice",), detective="Alice", target="Dave",
          result="mafia", phase=Phase.NIGHT)
    for about, opening in (("Dave", "I checked Dave:"), ("Carol", "Carol is")):
        player, backend = _player([" mafia."], ["speak", about])
        got = _act(player, s.request("Alice", Role.DETECTIVE, DecisionKind.DAY_ACTION,
                                     day_options("Alice")))
        assert got.text == f"{opening} mafia." and backend.prompts[2].endswith(opening)


def test_a_repeated_message_is_drawn_again_then_the_seat_stays_silent() -> None:
    s = _day()
    s.add(Message, channel=Channel.PUBLIC, sender="Bob", text="Dave is lying.")
    player, _ = _player([" lying!", " lying.", " quiet today."], ["speak", "Dave"])
    got = _act(player, s.request("Alice", Role.VILLAGER, DecisionKind.DAY_ACTION,
                                 day_options("Alice")))
    assert got.text == "Dave is quiet today."  # two repeats of Bob's line, redrawn
    assert [c.purpose for c in got.calls].count("text") == 3
    stubborn, _ = _player([" lying."] * (1 + REPEAT_RETRIES), ["speak", "Dave"])
    silent = _act(stubborn, s.request("Alice", Role.VILLAGER, DecisionKind.DAY_ACTION,
                                      day_options("Alice")))
    assert silent.choice == SAY and silent.text == ""  # silence, not a third repeat
    assert normalise('  "Dave IS   lying!" ') == "dave is lying"


def test_mafia_chat_opens_with_a_kill_proposal() -> None:
    s = Script()
    s.start("Bob", Role.MAFIA, ("Eve",))
    s.add(PhaseStarted, phase=Phase.NIGHT)
    player, backend = _player([" Carol tonight."], [])
    got = _act(player, s.request("Bob", Role.MAFIA, DecisionKind.MAFIA_CHAT, (),
                                 phase=Phase.NIGHT, mates=("Eve",)))
    assert got.text == "Let's kill Carol tonight."
    assert backend.prompts[0].endswith("[mafia chat] Bob: Let's kill")


def test_vote_prefix_names_the_team_the_voter_hunts() -> None:
    town, mafia = _day(), Script()
    mafia.start("Bob", Role.MAFIA, ("Eve",))
    mafia.add(PhaseStarted)
    others = tuple(p for p in SEATS if p != "Alice")
    player, backend = _player([], ["Carol"])
    assert _act(player, town.request("Alice", Role.VILLAGER, DecisionKind.VOTE,
                                     others)).choice == "Carol"
    assert backend.prompts[0].endswith("Alice votes to eliminate the mafia player")
    player, backend = _player([], ["Carol"])
    _act(player, mafia.request("Bob", Role.MAFIA, DecisionKind.VOTE,
                               tuple(p for p in SEATS if p != "Bob"), mates=("Eve",)))
    assert backend.prompts[0].endswith("Bob votes to eliminate the town player")


def test_state_block_spells_out_what_the_seat_knows() -> None:
    """The detective is told to name a found living mafia; the mafia see the town players
    (never their partner) in that list; public accusations of today are listed, for town
    votes only."""
    s = _day("Alice", Role.DETECTIVE)
    s.add(InvestigationResult, phase=Phase.NIGHT, visible_to=("Alice",), detective="Alice",
          target="Carol", result="mafia")
    s.add(Message, channel=Channel.PUBLIC, sender="Bob", text="I suspect Eve.")
    obs = s.request("Alice", Role.DETECTIVE, DecisionKind.VOTE, ()).observation
    facts = state_facts(obs, order_seed=3)
    assert facts["found"] == ["Carol"] and facts["accused"] == [("Bob", "Eve")]
    assert facts["targets"] == []
    state = BOOK.state.render(**facts)
    assert 'Alice should say: "I checked Carol: mafia." and vote for Carol.' in state
    assert "Today: Bob accused Eve." in state
    mafia = Script()
    mafia.start("Bob", Role.MAFIA, ("Eve",))
    obs = mafia.request("Bob", Role.MAFIA, DecisionKind.VOTE, (), mates=("Eve",)).observation
    for seed in range(20):
        targets = state_facts(obs, seed)["targets"]
        assert sorted(targets) == ["Alice", "Carol", "Dave"]
    line = BOOK.state.render(**state_facts(obs, 0))
    assert "Eve" not in line.split("votes for a town player")[1]
    # a mafia vote leaves today's accusations out (the accuser listed was often the partner)
    mafia.add(Message, channel=Channel.PUBLIC, sender="Eve", text="I suspect Carol.")
    obs = mafia.request("Bob", Role.MAFIA, DecisionKind.VOTE, (), mates=("Eve",)).observation
    assert state_facts(obs, 0)["accused"] == []
    assert "Today:" not in BOOK.state.render(**state_facts(obs, 0))


def test_a_town_vote_lists_the_players_not_shown_to_be_town() -> None:
    """Carol and Dave voted for Bob on day 1; Bob was voted out and shown to be mafia. On
    day 2 a villager's vote lists the others it may suspect (Eve only); a detective also
    leaves out whom it cleared; nothing shown to be town, no list; mafia seats get none."""
    s = _day()
    for voter, target in (("Carol", "Bob"), ("Dave", "Bob"), ("Eve", "Alice"),
                          ("Bob", "Alice")):
        s.add(VoteCast, voter=voter, target=target)
    s.add(PlayerDied, player="Bob", cause="vote", role="mafia", team=Team.MAFIA)
    s.add(PhaseStarted, day=2)
    alive = ("Alice", "Carol", "Dave", "Eve")
    obs = s.request("Alice", Role.VILLAGER, DecisionKind.VOTE, (), alive=alive).observation
    assert voted_out_mafia(obs) == {"Bob": ["Carol", "Dave"]}
    facts = state_facts(obs, order_seed=3)
    assert facts["suspects"] == ["Eve"]
    assert "\nAlice suspects: Eve.\n" in BOOK.state.render(**facts) + "\n"
    assert state_facts(obs, 3, kind="address")["suspects"] == []  # votes only
    as_mafia = dataclasses.replace(obs, role=Role.MAFIA, teammates=("Eve",))
    assert state_facts(as_mafia, 3)["suspects"] == []
    detective = _day("Carol", Role.DETECTIVE)
    detective.add(InvestigationResult, phase=Phase.NIGHT, visible_to=("Carol",),
                  detective="Carol", target="Dave", result="town")
    obs = detective.request("Carol", Role.DETECTIVE, DecisionKind.VOTE, ()).observation
    assert sorted(state_facts(obs, 3)["suspects"]) == ["Alice", "Bob", "Eve"]
    fresh = _day().request("Alice", Role.VILLAGER, DecisionKind.VOTE, ()).observation
    assert state_facts(fresh, 3)["suspects"] == []
    assert "suspects" not in BOOK.state.render(**state_facts(fresh, 3))


def test_a_claimed_check_makes_its_player_the_suspect_of_town_votes() -> None:
    """Carol says in public today that she checked Dave and found mafia: a villager's vote
    names Dave as its suspect, whatever else it knows, and leaves out today's accusations
    (Carol's name read before the suspect drew votes onto her); the detective's own vote, the
    mafia's and yesterday's claims do not; a claimed town result is not a suspect."""
    s = _day()
    s.add(Message, channel=Channel.PUBLIC, sender="Carol", text="I checked Dave: mafia. Vote!")
    s.add(Message, channel=Channel.PUBLIC, sender="Bob", text="I checked Eve: town.")
    obs = s.request("Alice", Role.VILLAGER, DecisionKind.VOTE, ()).observation
    assert claimed_mafia(obs) == ["Dave"]
    facts = state_facts(obs, 3)
    assert facts["suspects"] == ["Dave"]
    state = BOOK.state.render(**facts)
    assert "\nAlice suspects: Dave.\n" in state + "\n"
    # the claim is also an accusation, but a vote with a suspects line leaves those out
    assert facts["accused"] == [] and "Today:" not in state and "accused" not in state
    assert state_facts(obs, 3, kind="mentions")["suspects"] == []  # not in the baseline
    assert state_facts(obs, 3, kind="mentions")["accused"] == []  # votes only
    assert state_facts(dataclasses.replace(obs, role=Role.DETECTIVE), 3)["suspects"] == []
    as_mafia = dataclasses.replace(obs, role=Role.MAFIA, teammates=("Eve",))
    assert state_facts(as_mafia, 3)["suspects"] == []
    later = _day()
    later.add(Message, channel=Channel.PUBLIC, sender="Carol", text="I checked Dave: mafia.")
    later.add(PhaseStarted, day=2)
    tomorrow = dataclasses.replace(later.request("Alice", Role.VILLAGER, DecisionKind.VOTE,
                                                 ()).observation, day=2)
    assert claimed_mafia(tomorrow) == [] and state_facts(tomorrow, 3)["suspects"] == []


def test_a_detective_check_lists_the_players_it_has_not_checked() -> None:
    """At night the detective's check lists the living others it has not checked and
    leaves out whom it checked (read last, those names drew its checks again); its other
    decisions still see its checks, and a first check has neither line."""
    s = _day("Alice", Role.DETECTIVE)
    s.add(InvestigationResult, phase=Phase.NIGHT, visible_to=("Alice",), detective="Alice",
          target="Dave", result="town")
    obs = s.request("Alice", Role.DETECTIVE, DecisionKind.INVESTIGATE, ()).observation
    facts = state_facts(obs, 3, kind="investigate")
    assert sorted(facts["unchecked"]) == ["Bob", "Carol", "Eve"]
    state = BOOK.state.render(**facts)
    assert re.search(r"\nAlice has not checked: (Bob|Carol|Eve), (Bob|Carol|Eve), "
                     r"(Bob|Carol|Eve)\.$", state), state
    assert "checked: Dave" not in state and "Dave is town" not in state
    for kind in ("vote", "mentions", "address"):
        facts = state_facts(obs, 3, kind=kind)
        assert facts["unchecked"] == []
        assert "Alice checked: Dave is town." in BOOK.state.render(**facts)
    first = _day("Alice", Role.DETECTIVE).request("Alice", Role.DETECTIVE,
                                                  DecisionKind.INVESTIGATE, ()).observation
    assert "checked" not in BOOK.state.render(**state_facts(first, 3, kind="investigate"))


def test_name_lists_are_shuffled_by_the_call_seed_only() -> None:
    """Same seed, same order (so games replay); over seeds every seat comes first."""
    s = _day()
    obs = s.request("Alice", Role.VILLAGER, DecisionKind.VOTE, ()).observation
    assert state_facts(obs, 7)["alive"] == state_facts(obs, 7)["alive"]
    firsts = {state_facts(obs, seed)["alive"][0] for seed in range(60)}
    assert firsts == set(SEATS)
    line = BOOK.state.render(**state_facts(obs, 7))
    listed = re.search(r"Alive: ([^.]*)\.", line)
    assert listed and sorted(listed.group(1).split(", ")) == sorted(SEATS)


class ScoringBackend(ScriptedBackend):
    """Scores options like the llama.cpp backends: a log-probability per option, from a
    table keyed by the prompt: content-free (no game log between header and state), a
    vote's or a check's baseline (the neutral question "NAME mentions") or the real
    question."""

    scores_options = True

    def __init__(self, content_free: dict[str, float], real: dict[str, float],
                 baseline: dict[str, float] | None = None) -> None:
        super().__init__()
        self.tables = {"free": content_free, "real": real, "baseline": baseline or {}}

    async def choose(self, prompt, options, *, seed, temperature):  # type: ignore[override]
        self.prompts.append(prompt)
        key = ("free" if "\n\n\nNow:" in prompt
               else "baseline" if prompt.endswith(" mentions") else "real")
        scores = tuple(self.tables[key].get(o.strip(), -5.0) for o in options)
        best = max(range(len(options)), key=scores.__getitem__)
        return Choice(best, 10, 0, 1, 0.0, logprobs=scores)


def test_name_choices_are_calibrated_against_a_baseline_prompt() -> None:
    """A name the model favours without the question's meaning as much as with it is no
    longer favoured. Votes and the detective's checks: against the same game prompt asking
    whom the seat "mentions", asked with each; other name choices (whom to talk about, the
    other night actions): against
    the seat's content-free prompts, scored once at its first request, all in one name order
    so that each after the first costs only its question."""
    s = _day()
    salient = {"Bob": 0.0, "Carol": -3.0, "Dave": -3.0, "Eve": -3.0, "nobody": -3.0}
    in_game = {"Bob": 0.0, "Carol": -1.0, "Dave": -3.0, "Eve": -3.0, "nobody": -3.0}
    backend = ScoringBackend(content_free={}, real=in_game, baseline=salient)
    player = LLMPlayer(backend, seed=5, seat=0, style="completion", book=BOOK)
    others = tuple(p for p in SEATS if p != "Alice")
    votes = []
    for i in range(40):
        got = _act(player, s.request("Alice", Role.VILLAGER, DecisionKind.VOTE, others,
                                     index=i))
        votes.append(got.choice)
    # calibrated scores: Bob 0, Carol +2, Dave 0, Eve 0 -> Carol most often (at T 0.3)
    assert votes.count("Carol") > 25 and votes.count("Bob") < 8, votes
    real = [p for p in backend.prompts if p.endswith("votes to eliminate the mafia player")]
    baseline = [p for p in backend.prompts if p.endswith("Alice mentions")]
    assert len(real) == len(baseline) == 40
    assert all(b.rsplit("\n", 1)[0] == r.rsplit("\n", 1)[0] for r, b in zip(real, baseline))
    assert set(player.calibration or {}) == {"address"}  # a villager's content-free prompts

    doctor = _day("Alice", Role.DOCTOR)
    backend = ScoringBackend(content_free={"Bob": 0.0}, real={"Bob": 0.0, "Carol": -1.0})
    player = LLMPlayer(backend, seed=5, seat=0, style="completion", book=BOOK)
    _act(player, doctor.request("Alice", Role.DOCTOR, DecisionKind.PROTECT, SEATS,
                                phase=Phase.NIGHT))
    content_free = [p for p in backend.prompts if "\n\n\nNow:" in p]
    assert set(player.calibration or {}) == {"address", "protect"}
    assert len(content_free) == 2
    assert content_free[0].rsplit("\n", 1)[0] == content_free[1].rsplit("\n", 1)[0]
    assert content_free[0] != content_free[1]
    backend.scores_options = False  # a backend without option scores is not calibrated
    backend.scores_options = False  # a backend without option scores is not calibrated
    plain = LLMPlayer(backend, seed=5, seat=0, style="completion", book=BOOK)
    got = _act(plain, s.request("Alice", Role.VILLAGER, DecisionKind.VOTE, others))
    assert plain.calibration == {} and got.choice == "Bob"

    detective = _day("Alice", Role.DETECTIVE)
    backend = ScoringBackend(content_free={}, real={"Bob": 0.0, "Carol": -1.0},
                             baseline={"Bob": 0.0, "Carol": -3.0})
    player = LLMPlayer(backend, seed=5, seat=0, style="completion", book=BOOK)
    checks = [_act(player, detective.request("Alice", Role.DETECTIVE, DecisionKind.INVESTIGATE,
                                              others, phase=Phase.NIGHT, index=i)).choice
              for i in range(20)]
    assert checks.count("Carol") > 15, checks  # calibrated: Bob 0, Carol +2
    assert set(player.calibration or {}) == {"address"}
    real = [p for p in backend.prompts if p.endswith("[secret] Alice investigates:")]
    baseline = [p for p in backend.prompts if p.endswith("Alice mentions")]
    assert len(real) == len(baseline) == 20
