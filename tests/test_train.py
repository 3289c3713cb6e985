"""`mafia train`: the dataset format, refusals with one error line, and a smoke run of the real
path: a few LoRA steps on the bundled Gemma, export to GGUF, load in llama.cpp (both
backends), and the trained answer's log-probability went up."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from mafia.cli import main
from mafia.train.data import FORMAT, read_dataset

pytestmark = pytest.mark.model


def test_dataset_examples_are_plain_prompts_with_the_teachers_answers(tmp_path: Path) -> None:
    out = tmp_path / "d.jsonl"
    assert main(["train", "data", "--games", "2", "--seed", "5", "--out", str(out)]) == 0
    meta, examples = read_dataset(out)
    assert meta["format"] == FORMAT and meta["profile"] == "plain" and meta["games"] == 2
    kinds = {e["kind"] for e in examples}
    assert {"vote", "day_action", "speak", "kill"} <= kinds
    for e in examples:
        assert e["prompt"].startswith("Mafia, 7 players")
        assert "Example" not in e["prompt"] and "suspects" not in e["prompt"]
        if "options" in e:
            assert e["target"] in e["options"]
        else:
            assert e["target"].endswith("\n")
    again = tmp_path / "again.jsonl"
    main(["train", "data", "--games", "2", "--seed", "5", "--out", str(again)])
    assert again.read_text() == out.read_text()  # seeded
    pooled = tmp_path / "pooled.jsonl"  # games played in two processes: the same file
    main(["train", "data", "--games", "2", "--seed", "5", "--workers", "2", "--out", str(pooled)])
    assert pooled.read_text() == out.read_text()
    # --only: the same games, only the examples a selector matches, in the same order
    rare = tmp_path / "rare.jsonl"
    assert main(["train", "data", "--games", "2", "--seed", "5", "--only", "protect",
                 "--only", "detective:speak", "--out", str(rare)]) == 0
    rare_meta, kept = read_dataset(rare)
    assert rare_meta["only"] == ["protect", "detective:speak"]
    wanted = [e for e in examples if e["kind"] == "protect"
              or (e["role"] == "detective" and e["kind"] == "speak")]
    assert wanted and kept == wanted


def test_a_student_plays_and_the_teacher_labels(tmp_path: Path) -> None:
    """DAgger data (`--student`): the games are the student's own, move for move (here a
    random player), and every choice is labelled with the teacher's answer in that state."""
    from mafia.config import make_rules
    from mafia.engine import Engine
    from mafia.events import VoteCast
    from mafia.train.data import game_seed

    from mafia.agents.random_player import RandomPlayer

    out = tmp_path / "d.jsonl"
    assert main(["train", "data", "--games", "2", "--seed", "5", "--student", "random",
                 "--out", str(out)]) == 0
    meta, examples = read_dataset(out)
    assert meta["student"] == "random"
    for game in range(2):
        seed = game_seed(5, game)
        alone = asyncio.run(Engine(make_rules(players=7), seed,
                                   [RandomPlayer(seed, seat) for seat in range(7)]).run())
        votes = sorted((e.voter, f" {e.target}") for e in alone.events
                       if isinstance(e, VoteCast))
        recorded = sorted((e["seat"], e["played"]) for e in examples
                          if e["game"] == game and e["kind"] == "vote")
        assert votes and recorded == votes
    choices = [e for e in examples if "options" in e]
    assert all(e["target"] in e["options"] and e["played"] in e["options"] for e in choices)
    # the labels are the teacher's, not the student's: they often differ
    assert sum(e["target"] != e["played"] for e in choices) > len(choices) / 4


def test_against_a_fixed_town_only_the_mafia_are_recorded(tmp_path: Path) -> None:
    """`--town random`: the games are the teacher's mafia against random town seats (the
    seed's deal says which), move for move, and only the mafia's decisions are examples."""
    from mafia.config import make_rules
    from mafia.engine import Engine
    from mafia.enums import Team
    from mafia.events import VoteCast
    from mafia.rules import deal_roles
    from mafia.train.data import game_seed

    from mafia.agents.heuristic import HeuristicPlayer
    from mafia.agents.random_player import RandomPlayer

    out = tmp_path / "d.jsonl"
    assert main(["train", "data", "--games", "3", "--seed", "7", "--town", "random",
                 "--out", str(out)]) == 0
    meta, examples = read_dataset(out)
    assert meta["town"] == "random"
    assert examples and {e["role"] for e in examples} == {"mafia"}
    assert {"vote", "mafia_chat", "kill"} <= {e["kind"] for e in examples}
    rules = make_rules(players=7)
    for game in range(3):
        seed = game_seed(7, game)
        roles = deal_roles(rules, seed)
        players = [HeuristicPlayer(seed, seat) if role.team is Team.MAFIA
                   else RandomPlayer(seed, seat) for seat, role in enumerate(roles.values())]
        alone = asyncio.run(Engine(rules, seed, players).run())
        votes = [(e.voter, f" {e.target}") for e in alone.events
                 if isinstance(e, VoteCast) and roles[e.voter].team is Team.MAFIA]
        recorded = [(e["seat"], e["target"]) for e in examples
                    if e["game"] == game and e["kind"] == "vote"]
        assert votes and recorded == votes


def test_bad_training_input_is_one_error_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"hello": 1}\n')
    assert main(["train", "fit", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "not a mafia training dataset" in capsys.readouterr().err
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"format": FORMAT, "base": "x", "base_sha256": "0" * 64,
                                 "profile": "plain", "prompt_hash": "x"}) + "\n")
    assert main(["train", "fit", str(other), "--out", str(tmp_path / "r")]) == 2
    assert "was made for x" in capsys.readouterr().err
    assert main(["play", "--agents", f"gemma3-270m+{bad}", "--quiet"]) == 2
    assert "not a readable GGUF" in capsys.readouterr().err
    from mafia.train.export import write_gguf_adapter

    foreign = tmp_path / "foreign.gguf"
    write_gguf_adapter(foreign, {}, alpha=32.0, meta={"mafia.base_sha256": "0" * 64})
    assert main(["play", "--agents", f"gemma3-270m+{foreign}", "--quiet"]) == 2
    assert "trained on another base model" in capsys.readouterr().err
    run = tmp_path / "broken"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"truncated")
    assert main(["train", "export", str(run)]) == 2
    assert "unreadable" in capsys.readouterr().err


def test_a_few_steps_move_the_target_in_llama_cpp(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from mafia.agents.backends.llama_cpp_backend import LlamaCppBackend
    from mafia.agents.registry import resolve

    data = tmp_path / "d.jsonl"
    main(["train", "data", "--games", "1", "--seed", "2", "--out", str(data)])
    meta, examples = read_dataset(data)
    vote = next(e for e in examples if e["kind"] == "vote"
                and len(e["options"]) > 2)
    one = tmp_path / "one.jsonl"  # one example, trained on repeatedly
    one.write_text(json.dumps(meta) + "\n" + json.dumps(vote) + "\n")
    run = tmp_path / "run"
    assert main(["train", "fit", str(one), "--out", str(run), "--steps", "6", "--lr", "1e-3",
                 "--save-every", "3"]) == 0
    adapter = run / "adapter.gguf"
    assert adapter.stat().st_size > 1_000_000
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["tokens"] > 0
    logged = [json.loads(line) for line in (run / "train-log.jsonl").open()]
    assert [e["step"] for e in logged] == [5, 6]  # every 5 steps and the last
    assert sum(len(e["step_losses"]) for e in logged) == 6  # each step's own loss and pack
    assert all(e["step_packs"] == [0] * len(e["step_losses"]) for e in logged)

    def target_logprob(spec: str) -> float:
        backend = LlamaCppBackend(resolve(spec), n_ctx=2048, n_threads=2)
        result = asyncio.run(backend.choose(vote["prompt"], vote["options"], seed=0,
                                            temperature=1.0))
        assert result.logprobs is not None
        return result.logprobs[vote["options"].index(vote["target"])]

    before, after = target_logprob("gemma3-270m"), target_logprob(f"gemma3-270m+{adapter}")
    assert after > before + 1.0, (before, after)
    # `mafia train eval` sees the same: the teacher's vote became more likely
    def evaluated(spec: str) -> dict:
        capsys.readouterr()
        assert main(["train", "eval", str(one), "--agents", spec, "--json"]) == 0
        return json.loads(capsys.readouterr().out)["kinds"]["vote"]

    base, trained = evaluated("gemma3-270m"), evaluated(f"gemma3-270m+{adapter}")
    assert base["n"] == trained["n"] == 1
    assert trained["top1"] == 1.0 and trained["mean_logprob"] > base["mean_logprob"], (base,
                                                                                       trained)
    # resuming a finished run changes nothing; more steps continue from the checkpoint
    assert main(["train", "fit", str(one), "--out", str(run), "--steps", "7", "--lr", "1e-3",
                 "--save-every", "3"]) == 0
    assert json.loads((run / "summary.json").read_text())["steps"] == 7
    assert main(["train", "fit", str(one), "--out", str(run), "--steps", "7", "--lr", "5e-4"]) == 2
    # a second round starts from the first's adapter, on several datasets at once
    again = tmp_path / "round2"
    assert main(["train", "fit", str(one), str(one), "--out", str(again), "--steps", "1",
                 "--lr", "1e-9", "--init", str(adapter)]) == 0
    assert abs(target_logprob(f"gemma3-270m+{again / 'adapter.gguf'}") - after) < 0.3
    assert main(["train", "fit", str(one), "--out", str(tmp_path / "r8"), "--steps", "1",
                 "--rank", "8", "--init", str(adapter)]) == 2
    assert "another rank" in capsys.readouterr().err
    # the batched backend plays a whole game with the adapter, plain profile by default
    out = tmp_path / "game.jsonl"
    assert main(["play", "--agents", f"gemma3-270m+{adapter}", "--players", "5", "--seed", "1",
                 "--quiet", "--out", str(out)]) == 0
    header = json.loads(out.read_text().splitlines()[0])
    agent = header["players"][0]["agent"]
    assert agent["profile"] == "plain" and agent["adapter"] == str(adapter.resolve())
    assert len(agent["adapter_sha256"]) == 64
    assert agent["kv_layout"] == "unified"  # plain seats share the public record's cells


def test_the_shipped_adapter_fits_this_base_and_these_templates() -> None:
    """Editing prompts/plain/ means training the bundled adapter again (docs/training.md)."""
    from mafia.agents.gguf_meta import read_gguf_info
    from mafia.agents.plain_prompt import PlainBook
    from mafia.agents.registry import ADAPTERS_DIR, resolve

    info = read_gguf_info(ADAPTERS_DIR / "gemma3-270m-mafia.gguf")
    assert info.general_type == "adapter" and info.architecture == "gemma3"
    assert info.trained_base_sha256 == resolve("gemma3-270m").sha256
    assert info.trained_prompt_hash == PlainBook().hash
    model = resolve("gemma3-270m-mafia")
    assert model.adapter == (ADAPTERS_DIR / "gemma3-270m-mafia.gguf").resolve()


def test_training_computes_in_bf16_only_where_the_cpu_does() -> None:
    """torch emulates bf16 on a CPU without AVX-512 bf16 or AMX (hundreds of times slower
    than fp32 there), so such a CPU trains in fp32."""
    import torch

    from mafia.train.fit import compute_dtype

    assert compute_dtype("cpu", "flags\t\t: fpu sse avx2 fma") is torch.float32
    assert compute_dtype("cpu", "flags\t\t: fpu avx2 avx512f avx512_bf16") is torch.bfloat16
    assert compute_dtype("cpu", "flags\t\t: fpu avx512f amx_bf16 amx_tile") is torch.bfloat16
    assert compute_dtype("cpu", "") is torch.float32
