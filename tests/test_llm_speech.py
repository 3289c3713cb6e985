"""What the language-model player adds around the model's own choices and words, with the
scripted backend: public messages open with a name the model picked, repeats are drawn
again, the state block says what the seat knows (and only that), name lists are shuffled by
the call's seed, and vote prefixes name the team the voter hunts."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from test_heuristic import SEATS, Script, day_options

from mafia.decisions import SAY, Answer
from mafia.enums import Channel, DecisionKind, Phase, Role
from mafia.events import InvestigationResult, Message, PhaseStarted

from agents.backends.base import Choice
from agents.backends.fake import ScriptedBackend
from agents.llm_player import REPEAT_RETRIES, LLMPlayer, normalise
from agents.prompting import PromptBook, state_facts

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
    (never their partner) in that list; public accusations of today are listed."""
    s = _day("Alice", Role.DETECTIVE)
    s.add(InvestigationResult, phase=Phase.NIGHT, visible_to=("Alice",), detective="Alice",
          target="Carol", result="mafia")
    s.add(Message, channel=Channel.PUBLIC, sender="Bob", text="I suspect Eve.")
    obs = s.request("Alice", Role.DETECTIVE, DecisionKind.VOTE, ()).observation
    facts = state_facts(obs, order_seed=3)
    assert facts["found"] == ["Carol"] and facts["accused"] == [("Bob", "Eve")]
    assert facts["targets"] == []
    state = BOOK.state.render(**facts)
    assert 'Alice should say: "Carol is mafia." and vote for Carol.' in state
    assert "Today: Bob accused Eve." in state
    mafia = Script()
    mafia.start("Bob", Role.MAFIA, ("Eve",))
    obs = mafia.request("Bob", Role.MAFIA, DecisionKind.VOTE, (), mates=("Eve",)).observation
    for seed in range(20):
        targets = state_facts(obs, seed)["targets"]
        assert sorted(targets) == ["Alice", "Carol", "Dave"]
    line = BOOK.state.render(**state_facts(obs, 0))
    assert "Eve" not in line.split("votes for a town player")[1]


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
    table keyed by whether the prompt is content-free (no game log between header and state)."""

    scores_options = True

    def __init__(self, content_free: dict[str, float], real: dict[str, float]) -> None:
        super().__init__()
        self.tables = {True: content_free, False: real}

    async def choose(self, prompt, options, *, seed, temperature):  # type: ignore[override]
        self.prompts.append(prompt)
        table = self.tables["\n\n\nNow:" in prompt]
        scores = tuple(table.get(o.strip(), -5.0) for o in options)
        best = max(range(len(options)), key=scores.__getitem__)
        return Choice(best, 10, 0, 1, 0.0, logprobs=scores)


def test_name_choices_are_calibrated_against_the_content_free_prompt() -> None:
    """A name the model favours on the empty prompt as much as in the game is no longer
    favoured: the seat's first request scores its content-free prompts once (vote, address,
    and the role's night action), and later draws subtract those log-probabilities."""
    s = _day()
    biased = {"Bob": 0.0, "Carol": -3.0, "Dave": -3.0, "Eve": -3.0, "nobody": -3.0}
    in_game = {"Bob": 0.0, "Carol": -1.0, "Dave": -3.0, "Eve": -3.0}
    backend = ScoringBackend(content_free=biased, real=in_game)
    player = LLMPlayer(backend, seed=5, seat=0, style="completion", book=BOOK)
    others = tuple(p for p in SEATS if p != "Alice")
    votes = []
    for i in range(40):
        got = _act(player, s.request("Alice", Role.VILLAGER, DecisionKind.VOTE, others,
                                     index=i))
        votes.append(got.choice)
    assert sum("\n\n\nNow:" in p for p in backend.prompts) == 2  # vote and address, once
    assert set(player.calibration or {}) == {"vote", "address"}
    # calibrated scores: Bob 0, Carol +2, Dave 0, Eve 0 -> Carol most often (at T 0.5)
    assert votes.count("Carol") > 25 and votes.count("Bob") < 8, votes
    backend.scores_options = False  # a backend without option scores is not calibrated
    plain = LLMPlayer(backend, seed=5, seat=0, style="completion", book=BOOK)
    got = _act(plain, s.request("Alice", Role.VILLAGER, DecisionKind.VOTE, others))
    assert plain.calibration == {} and got.choice == "Bob"
