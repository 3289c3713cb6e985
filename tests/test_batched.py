"""The batched backend with the real bundled model: several seats in one llama.cpp context.

What a user relies on: a seat's answer never depends on what another seat's prompt says
(they share a KV cache), calls made together are batched deterministically, shared text is
read once, its scores agree with the one-context-per-seat reference, and a failed decode fails
only the calls of that batch.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from mafia.agents.backends.batched import BatchedModel
from mafia.agents.backends.llama_cpp_backend import LlamaCppBackend
from mafia.agents.backends.multi_seq import ChoiceJob, TextJob, kv_layout
from mafia.errors import MafiaError
from mafia.agents.backends.sampling import SamplingParams
from mafia.agents.registry import resolve

pytestmark = pytest.mark.model

HEADER = ("This is a game of Mafia between 5 players: Alice, Bob, Carol, Dave and Eve.\n"
          "Every player is secretly town or mafia. There are 1 mafia and 4 villagers.\n")
VOTE = [" Alice", " Bob", " Carol", " Dave", " nobody", " dm Alice", " dm Bob"]


def _prompt(me: str, secret: str) -> str:
    return (f"{HEADER}\n{me} is a villager.\n[private] {secret}\nDay 1.\n"
            f"Bob: I think Alice is lying.\n{me} votes to eliminate:")


@pytest.fixture(scope="module", params=["streams", "unified"])
def group(request: pytest.FixtureRequest) -> BatchedModel:
    """Both KV layouts: a stream per seat (the default), and one cache whose shared cells
    carry several seats' ids (MAFIA_KV_LAYOUT=unified)."""
    return BatchedModel(resolve("gemma3-270m"), n_seats=3, n_ctx=1024, layout=request.param)


def test_the_layout_follows_the_profile_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAFIA_KV_LAYOUT", raising=False)
    assert (kv_layout("plain"), kv_layout("assisted"), kv_layout()) == (
        "unified", "streams", "streams")
    monkeypatch.setenv("MAFIA_KV_LAYOUT", "streams")
    assert kv_layout("plain") == "streams"
    monkeypatch.setenv("MAFIA_KV_LAYOUT", "one")
    with pytest.raises(MafiaError, match="MAFIA_KV_LAYOUT=one: expected auto or one of"):
        kv_layout("plain")


def _fresh(group: BatchedModel) -> None:
    for i in range(group.n_seats):
        group.seat(i).reset()


def _choose_together(group: BatchedModel, prompts: list[str], options=VOTE):
    async def go():
        return await asyncio.gather(*(group.seat(i).choose(p, options, seed=7, temperature=1.0)
                                      for i, p in enumerate(prompts)))
    return asyncio.run(go())


def test_a_seat_answer_does_not_depend_on_another_seats_secret(group) -> None:
    """Seats share one context and one batch; what seat 0 was told must not move seat 1.
    (The two secrets have the same token count: batch shapes change llama.cpp's rounding.)"""
    told, other = _prompt("Carol", "Dave is the detective."), _prompt("Carol", "Eve is the doctor.")
    assert len(group.ctx.tokenize(told)) == len(group.ctx.tokenize(other))
    _fresh(group)
    a = _choose_together(group, [told, _prompt("Eve", "Alice whispered: I am mafia.")])
    _fresh(group)
    b = _choose_together(group, [other, _prompt("Eve", "Alice whispered: I am mafia.")])
    assert a[0].logprobs != b[0].logprobs  # seat 0's own prompt changed, so did its scores
    assert a[1].logprobs == b[1].logprobs


def test_calls_made_together_form_one_batch_in_seat_order(group) -> None:
    """Three seats asked at once go into one batch (so shared text is read once); the same
    calls again give exactly the same answers."""
    prompts = [_prompt(n, "nothing") for n in ("Carol", "Dave", "Eve")]
    batches: list[list[int]] = []
    run = group.ctx.run

    def spy(jobs):
        batches.append([j.seq for j in jobs])
        return run(jobs)

    group.ctx.run = spy  # type: ignore[method-assign]
    try:
        _fresh(group)
        first = _choose_together(group, prompts)
        _fresh(group)
        second = _choose_together(group, prompts)
    finally:
        del group.ctx.run
    assert batches == [[0, 1, 2], [0, 1, 2]]
    assert [c.logprobs for c in first] == [c.logprobs for c in second]
    # the header was evaluated once, by seat 0; the other seats got a copy of its cells
    assert first[0].reused_tokens == first[0].shared_tokens == 0
    assert all(c.shared_tokens > 20 and c.reused_tokens == 0 for c in first[1:])


def _dist(scores) -> "np.ndarray":
    """Choice probabilities from option log-probabilities."""
    s = np.asarray(scores, dtype=float)
    p = np.exp(s - s.max())
    return p / p.sum()


def _tv(a, b) -> float:
    """Total-variation distance between two choice distributions."""
    return float(0.5 * np.abs(_dist(a) - _dist(b)).sum())


def _margin(scores) -> float:
    """How far (nats) the most likely option is ahead of the runner-up."""
    top = np.sort(np.asarray(scores, dtype=float))
    return float(top[-1] - top[-2])


# Batched vs simple on the same prompts differ by llama.cpp's rounding between batch shapes,
# which depends on the CPU. Measured over 30 prompt/batch-shape pairs of these prompts:
# AMD EPYC (AVX2): TV distance mean 0.014, max 0.036, the most likely option always the
# same; but single log-probabilities differed by up to 0.61 nats even for options with
# p >= 1%, and 0.79 in the tail (p ~ 1e-9), where an earlier absolute 0.5-nat bound failed.
# So the tests compare what a choice is made from: the distribution, and the top option
# where it is clearly ahead.
MAX_TV = 0.1
CLEAR_MARGIN = 1.0  # nats; disagreements were only seen at margins of 0.11-0.12


@pytest.mark.parametrize("secret", ["nothing", "Alice whispered: I am mafia.",
                                    "Bob lied twice today."])
def test_scores_agree_with_the_one_context_per_seat_reference(group, secret) -> None:
    """Same prompt, same options: alone in a batch and beside two other seats, the batched
    choice distribution is within MAX_TV of the simple backend's, with the same top option."""
    prompt = _prompt("Carol", secret)
    simple = LlamaCppBackend(resolve("gemma3-270m"), n_ctx=1024)
    reference = asyncio.run(simple.choose(prompt, VOTE, seed=7, temperature=1.0))
    assert reference.logprobs is not None
    for others in ([], [_prompt("Dave", "nothing"), _prompt("Eve", "nothing")]):
        _fresh(group)
        batched = _choose_together(group, [prompt, *others])[0]
        assert batched.logprobs is not None
        assert _tv(batched.logprobs, reference.logprobs) < MAX_TV, (batched.logprobs,
                                                                    reference.logprobs)
        if _margin(reference.logprobs) > CLEAR_MARGIN:
            assert np.argmax(batched.logprobs) == np.argmax(reference.logprobs)


def test_a_grown_prompt_reuses_the_seat_cells_and_a_new_seat_reuses_another_seats(group) -> None:
    _fresh(group)
    base = _prompt("Carol", "nothing")
    _choose_together(group, [base])
    grown = asyncio.run(group.seat(0).choose(base + " Alice\nDay 2.\nCarol votes to eliminate:",
                                              VOTE, seed=1, temperature=0.0))
    assert grown.reused_tokens >= len(group.ctx.tokenize(base)) - 1
    other = asyncio.run(group.seat(2).choose(_prompt("Eve", "nothing"), VOTE, seed=1,
                                              temperature=0.0))
    assert other.shared_tokens >= len(group.ctx.tokenize(HEADER)) - 2  # the shared header
    assert other.reused_tokens == 0


def _public_news(group: BatchedModel, news: str):
    """The plain profile's layout (shared rules and public record, then each seat's private
    part): three seats vote, then vote again after `news` joins the public record. Returns
    the second calls and how many leading tokens a seat that copied the news holds shared."""

    def prompt(me: str, public: str) -> str:
        return f"{HEADER}{public}Only {me} knows: {me} is a villager.\n{me} votes for"

    _fresh(group)
    names = ("Alice", "Carol", "Eve")
    _choose_together(group, [prompt(n, "Day 1.\n") for n in names])
    second = _choose_together(group, [prompt(n, "Day 1.\n" + news) for n in names])
    return second, len(group.ctx.tokenize(HEADER + "Day 1.\n" + news)) - 2


def test_new_text_every_seat_reads_is_evaluated_once_and_copied(group) -> None:
    """The plain profile's layout: shared rules and public record, then each seat's private
    part. Public lines added since the seats' last calls are read by one seat only."""
    news = ("Dave: I checked Bob last night and he is mafia, so vote for Bob today.\n"
            "Eve: I do not trust Dave, he voted for Carol yesterday and Carol was town.\n")
    second, shared = _public_news(group, news)
    assert len(group.ctx.tokenize(news)) > 32  # more than a copy's minimum
    evaluated = [c.prompt_tokens - c.shared_tokens - c.reused_tokens for c in second]
    copiers = [c for c in second if c.shared_tokens >= shared]
    assert len(copiers) == 2 and all(c.reused_tokens == 0 for c in copiers)
    # the news once, plus each seat's own tail, and not three times
    assert sum(evaluated) < len(group.ctx.tokenize(news)) + 3 * 20


def test_one_short_public_line_is_copied_in_one_cache_and_read_by_each_stream(group) -> None:
    """A single new public line (under a stream copy's 33-token minimum): in one cache, where a
    copy only adds a seat's id to cells, one seat reads it and the others copy it; as streams,
    where a copy moves a whole stream, each seat reads it itself."""
    line = "Bob: I think Carol is lying about her vote.\n"
    second, shared = _public_news(group, line)
    n_line = len(group.ctx.tokenize(line)) - 1
    assert 4 < n_line <= 32
    copiers = [c for c in second if c.shared_tokens >= shared]
    assert len(copiers) == (2 if group.ctx.unified else 0)


def test_speech_stops_at_a_newline_and_respects_the_token_limit(group) -> None:
    _fresh(group)
    jobs = [TextJob(i, _prompt(n, "nothing").replace("votes to eliminate:", "says:"), seed=3,
                    max_tokens=limit, stop=("\n",), params=SamplingParams(temperature=0.8))
            for i, (n, limit) in enumerate([("Carol", 40), ("Dave", 3), ("Eve", 1)])]
    results = group.ctx.run(jobs)
    for r, job in zip(results, jobs):
        assert "\n" not in r.text
        assert 1 <= r.generated_tokens <= job.max_tokens
    assert results[2].generated_tokens == 1


def test_a_failed_decode_fails_that_batch_only_and_the_next_call_starts_clean(
        group, monkeypatch) -> None:
    _fresh(group)
    prompt = _prompt("Carol", "nothing")
    _choose_together(group, [prompt])
    raw = group.ctx.raw
    real = raw.llama_decode
    monkeypatch.setattr(raw, "llama_decode", lambda ctx, batch: 1)  # "no KV slot"
    with pytest.raises(RuntimeError):
        _choose_together(group, [prompt + " Bob\nCarol votes to eliminate:"])
    monkeypatch.setattr(raw, "llama_decode", real)
    again = _choose_together(group, [prompt])[0]
    assert again.reused_tokens == 0  # the cache was cleared, not left half written
    assert 0 <= again.index < len(VOTE)


def test_choices_with_many_multi_token_options_use_scratch_rounds(group) -> None:
    """More option branches than scratch sequences: the batch runs in rounds, still legal."""
    _fresh(group)
    options = [f" dm Player{i}x{i}" for i in range(40)]
    jobs = [ChoiceJob(i, _prompt(n, "nothing"), options, seed=5, temperature=1.0)
            for i, n in enumerate(["Carol", "Dave", "Eve"])]
    results = group.ctx.run(jobs)
    for r in results:
        assert 0 <= r.index < len(options)
        assert r.scores is not None and all(s > -1e8 for s in r.scores)


def test_in_a_real_game_batched_choices_match_the_reference_backend(tmp_path) -> None:
    """Every choice of a real batched game is scored again by the one-context-per-seat
    backend on the same prompt: they agree on the most likely option wherever it is clearly
    ahead, and their choice distributions are close. Measured on AMD EPYC (AVX2) over 88
    choices of six such games (seeds 21-26): mean TV distance 0.035, 95th percentile 0.089,
    max 0.112; 86 top options agreed, the 2 others had reference margins of 0.11 and 0.12
    nats. (On an Intel AMX machine earlier: 77 of 78 agreed, mean TV 0.026.) Which choices a
    game reaches depends on the CPU, so no count of close calls is asserted."""
    from mafia.cli.play import play_game
    from mafia.config import make_rules

    from mafia.agents.backends import batched
    from mafia.agents.seating import build_players
    from mafia.agents.specs import ModelOptions

    model = resolve("gemma3-270m")
    references: dict[int, LlamaCppBackend] = {}
    pairs: list[tuple[list[float], list[float]]] = []
    choose = batched.SeatBackend.choose

    async def checked(self, prompt, options, *, seed, temperature):
        got = await choose(self, prompt, options, seed=seed, temperature=temperature)
        ref = references.setdefault(self.seq, LlamaCppBackend(model, n_ctx=1024))
        want = ref._choose(prompt, list(options), seed, temperature)
        pairs.append((got.logprobs, want.logprobs))
        return got

    batched.SeatBackend.choose = checked  # type: ignore[method-assign]
    try:
        rules = make_rules(players=5, roles={"mafia": 1}, discussion_rounds=1, max_days=2)
        players = build_players(["gemma3-270m"], 5, 21, ModelOptions(ctx=1024, max_tokens=8))
        play_game(rules, 21, players, tmp_path / "game.jsonl")
    finally:
        batched.SeatBackend.choose = choose  # type: ignore[method-assign]
    assert len(pairs) >= 10
    tv = [_tv(a, b) for a, b in pairs]
    assert float(np.mean(tv)) < 0.08 and max(tv) < 0.3, tv
    clear = [(a, b) for a, b in pairs if _margin(b) > CLEAR_MARGIN]
    assert clear  # a game always has some clear choices
    assert all(np.argmax(a) == np.argmax(b) for a, b in clear)


def test_the_profile_counts_every_token_evaluated_and_every_generation_step(group) -> None:
    """`mafia bench`'s breakdown of the wall time reads these counters: prompt tokens
    evaluated (what the results say was neither reused nor copied, plus the option paths
    scored after the prompt) and one token per speaking seat per generation step."""
    from mafia.agents.backends.multi_seq import PROFILE

    _fresh(group)
    before = PROFILE.snapshot()
    choices = _choose_together(group, [_prompt("Carol", "nothing"), _prompt("Eve", "nothing")])
    texts = group.ctx.run([TextJob(i, _prompt(n, "nothing").replace("votes to eliminate:",
                                                                     "says: I think"),
                                   seed=3, max_tokens=6, stop=("\n",),
                                   params=SamplingParams(temperature=0.8))
                           for i, n in enumerate(("Carol", "Eve"))])
    used = PROFILE.snapshot().since(before)
    evaluated = sum(c.prompt_tokens - c.reused_tokens - c.shared_tokens for c in choices)
    evaluated += sum(c.generated_tokens for c in choices)  # option paths beyond the first token
    evaluated += sum(r.prompt_tokens - r.reused_tokens - r.shared_tokens for r in texts)
    assert used.prompt.tokens == evaluated
    # a message's first token is sampled from the prompt's logits; each later one after a step
    assert used.step.tokens == sum(r.generated_tokens - 1 for r in texts) > 0
    assert used.runs == 2 and used.prompt.s > 0 and used.run_s >= used.prompt.s + used.step.s


def test_with_two_games_in_one_batch_each_games_news_is_read_once() -> None:
    """Several games in flight: one batch holds seats of two games, which share the rules but
    not their public records. Each game's new public lines are evaluated once, by one of its
    seats, and copied by its other seats."""
    group = BatchedModel(resolve("gemma3-270m"), n_seats=4, n_ctx=1024)
    news = {"a": "Dave: I checked Bob last night and he is mafia, so vote for Bob today now.\n"
                 "Eve: I do not trust Dave, he voted for Carol yesterday and Carol was town.\n",
            "b": "Carol: Nobody died last night, so the doctor saved someone; who was it then?\n"
                 "Bob: I think Alice is the one to watch, she has said nothing at all today.\n"}

    def prompt(me: str, game: str, public: str) -> str:
        return f"{HEADER}Game {game}.\n{public}Only {me} knows: {me} is a villager.\n{me} votes for"

    seats = [("Alice", "a"), ("Carol", "a"), ("Eve", "b"), ("Dave", "b")]
    _choose_together(group, [prompt(n, g, "Day 1.\n") for n, g in seats])
    second = _choose_together(group, [prompt(n, g, "Day 1.\n" + news[g]) for n, g in seats])
    evaluated = [c.prompt_tokens - c.shared_tokens - c.reused_tokens for c in second]
    for g in ("a", "b"):
        assert len(group.ctx.tokenize(news[g])) > 32  # more than a copy's minimum
    own = [i for i in range(4) if evaluated[i] < 20]  # a copier reads only its own tail
    assert len(own) == 2 and {seats[i][1] for i in own} == {"a", "b"}  # one per game
    assert sum(evaluated) < sum(len(group.ctx.tokenize(n)) for n in news.values()) + 4 * 20
