"""The training dataset: every decision of a teacher's games, as the plain-profile prompt the
seat would have read and the answer the teacher gave.

Format (JSONL, one object per line). The first line describes the dataset:
    {"format": "mafia-train/1", "base": alias, "base_sha256": ..., "profile": "plain",
     "prompt_hash": ..., "teacher": "heuristic", "games": N, "seed": S, "players": P,
     "budget_tokens": B}
then one line per example:
    {"game": i, "seed": game seed, "seat": name, "kind": decision kind, "prompt": text,
     "target": text, "options": [labels] (choices only)}
A choice's target is its option label (" Carol", " speak", " dm Bob", " nobody"); speech's is
" " + the text + "\n" (the newline ends a message at play time), or "\n" for silence.

With a student (`--student SPEC`, DAgger): the student plays every seat and its answers are
what happens; the teacher, shown the same requests, only labels them. The examples are then
the states the student's own play leads to, where a model trained on the teacher's games
alone goes wrong (a villager claiming to be the detective, votes that follow the claim).
Such an example also records `"played"`: the label of the student's own choice. The teacher
remembers what it would have said, not what the student said: its later lines may skip a
claim the student never made.

Against a fixed team (`--town SPEC` or `--mafia SPEC`): that team's seats are played by SPEC
and give no examples; the teacher (or the student) plays and is recorded in the others. The
mafia's decisions against a random town are states all-teacher games never reach: nobody
voices the town's suspicion, so the mafia vote together only by what their channel agreed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import json
import multiprocessing
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from mafia.config import Rules
from mafia.decisions import Answer, Request
from mafia.engine import Engine
from mafia.train.weights import parse_selector, selected

from mafia.agents.heuristic import HeuristicPlayer
from mafia.agents.seating import build_players
from mafia.agents.specs import ModelOptions, Teams
from mafia.agents.plain_player import PLAIN_BUDGET, speech_kind
from mafia.agents.plain_prompt import PlainBook, PlainPrompt
from mafia.agents.prompting import option_label

FORMAT = "mafia-train/1"
RECORDED = ""  # a team's spec in `teams` for the seats the teacher plays and the data records


@dataclass
class Example:
    game: int
    seed: int
    seat: str
    kind: str
    prompt: str
    target: str
    options: list[str] | None = None
    played: str | None = None  # with a student: the label of the choice it made
    role: str | None = None  # the seat's role (`mafia train fit --weight` selects by it)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class Recorder:
    """Wraps a teacher seat: answers as the teacher does, and writes down each decision's
    plain prompt and the teacher's answer."""

    def __init__(self, teacher: Any, prompt: PlainPrompt, game: int, seed: int,
                 out: list[Example], student: Any = None) -> None:
        self.teacher, self.prompt, self.game, self.seed, self.out = teacher, prompt, game, seed, out
        self.student = student

    def describe(self) -> dict[str, Any]:
        return (self.student or self.teacher).describe()  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        if hasattr(self.student, "aclose"):
            await self.student.aclose()

    async def act(self, request: Request) -> Answer:
        answer: Answer = await self.teacher.act(request)
        played = answer if self.student is None else await self.student.act(request)
        obs, me = request.observation, request.player
        if request.options and answer.choice in request.options:
            labels = [option_label(o) for o in request.options]
            self.out.append(Example(self.game, self.seed, me, request.kind.value,
                                    self.prompt.build(obs, request.kind.value, rules=request.rules),
                                    option_label(answer.choice), labels,
                                    role=obs.role.value))
            if self.student is not None and played.choice in request.options:
                self.out[-1].played = option_label(played.choice)
        wanted = speech_kind(request, answer.choice)
        if wanted is not None:
            text = answer.text.strip()
            self.out.append(Example(self.game, self.seed, me, wanted[0],
                                    self.prompt.build(obs, wanted[0], say_to=wanted[1],
                                                      rules=request.rules),
                                    f" {text}\n" if text else "\n", role=obs.role.value))
        return played


def game_seed(seed: int, i: int) -> int:
    """Game i's seed: drawn from the dataset seed (so datasets of other seeds do not share
    deals with each other or with evaluation sweeps)."""
    return random.Random(f"mafia-train:{seed}:{i}").randrange(2**31)


def write_dataset(out: TextIO, *, rules: Rules, games: int, seed: int,
                  count_tokens: Callable[[str], int], base: dict[str, Any],
                  on_game: Callable[[int, int], None] | None = None,
                  student: str | None = None, options: ModelOptions = ModelOptions(),
                  workers: int = 1, model_path: Path | None = None,
                  only: Sequence[str] = (), teams: Teams | None = None) -> int:
    """Play `games` games (the teacher's, or the student's with the teacher's labels) and
    write their examples, in game order; returns the example count. With `workers` > 1 the
    games are played in that many processes (each game is a function of its seed, so the
    file is the same); they count tokens with `model_path`'s tokenizer. `only` (selectors as
    in `fit --weight`, without the factor) keeps just the examples that match one of them:
    a dataset of the rare decisions, from many games, costs no training on the rest.
    `teams`: a team whose spec is not RECORDED is played by that spec and not recorded."""
    book = PlainBook()
    keep = [parse_selector(s) for s in only]
    meta = {"format": FORMAT, **base, "profile": "plain", "prompt_hash": book.hash,
            "teacher": "heuristic", "games": games, "seed": seed, "players": rules.players,
            "budget_tokens": PLAIN_BUDGET, **({"student": student} if student else {}),
            **({"only": [k.selector for k in keep]} if keep else {}),
            **({"town": teams.town} if teams and teams.town != RECORDED else {}),
            **({"mafia": teams.mafia} if teams and teams.mafia != RECORDED else {})}
    out.write(json.dumps(meta) + "\n")
    total = 0
    for i, examples in enumerate(_games(rules, games, seed, count_tokens, student, options,
                                        workers, model_path, teams)):
        examples = [ex for ex in examples if selected(meta, ex, keep)]
        for ex in examples:
            out.write(json.dumps(ex) + "\n")
        total += len(examples)
        if on_game is not None:
            on_game(i + 1, total)
    return total


def game_examples(rules: Rules, seed: int, i: int, count_tokens: Callable[[str], int],
                  student: str | None, options: ModelOptions,
                  teams: Teams | None = None) -> list[dict[str, Any]]:
    """Game i of a dataset: its examples, as JSON objects."""
    s = game_seed(seed, i)
    book = PlainBook()
    examples: list[Example] = []
    plan = teams.seat_specs(rules, s) if teams else [RECORDED] * rules.players
    # One player per seat: the fixed team's, else the student (random stands in, unused)
    built = build_players([spec or student or "random" for spec in plan], rules.players, s,
                          options)
    players = [built[seat] if plan[seat] != RECORDED else
               Recorder(HeuristicPlayer(s, seat),
                        PlainPrompt(book, count_tokens=count_tokens, budget_tokens=PLAIN_BUDGET),
                        i, s, examples, built[seat] if student else None)
               for seat in range(rules.players)]
    asyncio.run(Engine(rules, s, players).run())
    return [ex.to_json() for ex in examples]


def _games(rules: Rules, games: int, seed: int, count_tokens: Callable[[str], int],
           student: str | None, options: ModelOptions, workers: int,
           model_path: Path | None,
           teams: Teams | None = None) -> Iterator[list[dict[str, Any]]]:
    """Each game's examples, in game order."""
    if workers <= 1 or games <= 1:
        for i in range(games):
            yield game_examples(rules, seed, i, count_tokens, student, options, teams)
        return
    assert model_path is not None, "workers need the tokenizer's model file"
    context = multiprocessing.get_context("spawn")  # the parent has threads (progress)
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_worker_game, rules, seed, i, str(model_path), student, options,
                               teams) for i in range(games)]
        try:
            for future in futures:  # in game order; later games finish meanwhile
                yield future.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


_COUNTERS: dict[str, Callable[[str], int]] = {}  # a worker's tokenizer, loaded once


def _worker_game(rules: Rules, seed: int, i: int, model_path: str, student: str | None,
                 options: ModelOptions,
                 teams: Teams | None = None) -> list[dict[str, Any]]:
    if model_path not in _COUNTERS:
        _COUNTERS[model_path] = token_counter(Path(model_path))
    return game_examples(rules, seed, i, _COUNTERS[model_path], student, options, teams)


def token_counter(path: Path) -> Callable[[str], int]:
    """Tokens of a text as the plain prompt's budget counts them (the model's tokenizer)."""
    from mafia.agents.backends.llama_loading import load_llama

    llm = load_llama(model_path=str(path), vocab_only=True, verbose=False)
    return lambda text: len(llm.tokenize(text.encode(), add_bos=True, special=False))


def read_dataset(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The dataset's description and its examples; MafiaError if it is not one."""
    from mafia.errors import MafiaError

    try:
        with open(path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as exc:
        raise MafiaError(f"cannot read dataset {path}: {exc}") from None
    if not lines or lines[0].get("format") != FORMAT:
        raise MafiaError(f"{path} is not a mafia training dataset (no {FORMAT} first line)")
    return lines[0], lines[1:]
