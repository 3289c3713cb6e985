"""Endpoint seats against a real server: llama-cpp-python's OpenAI-compatible server on
loopback, serving two models at once (each request names its model). An endpoint seat
scores choices by the options' echoed log-probabilities, as a local seat does, when the
server returns them correctly; otherwise it falls back to grammar-constrained choices, and
the header says which (`choice_method`)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from helpers import free_port, llama_server

from mafia.cli import main
from mafia.transcript import read_transcript

from mafia.agents.backends.http_backend import PROBE, HttpBackend, _echoed
from mafia.agents.backends.llama_cpp_backend import LlamaCppBackend
from mafia.agents.registry import resolve

pytestmark = pytest.mark.model

MODELS = ("gemma3-270m", "smollm2-135m")
# Short prompts: llama-cpp-python's server sorts the whole vocabulary (262k tokens for Gemma)
# in Python for every echoed token, so a long prompt takes minutes per option there.
PROMPTS = ("Mafia game. Alice, Bob and Carol are alive. Bob is mafia.\nAlice votes for",
           "Carol: I checked Bob last night and he is mafia.\nDave votes for")
OPTIONS = (" Alice", " Bob", " Carol", " nobody")
MAX_TV = 0.1  # as the batched-backend tests: llama.cpp rounds differently per batch shape
CLEAR_MARGIN = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server process, several models (it swaps them on demand), prompt log-probabilities
    on (`logits_all`, the server's default) but for `gemma-fast`."""
    pytest.importorskip("llama_cpp.server", reason="needs the llama-cpp-python[server] extra")
    port = free_port()
    threads = os.cpu_count() or 1
    common = {"n_ctx": 512, "n_threads": threads, "n_threads_batch": threads, "verbose": False}
    config = {"host": "127.0.0.1", "port": port,
              "models": [{"model": str(resolve(m).path), "model_alias": m, **common}
                         for m in MODELS]
              # the same Gemma without prompt log-probabilities: a game's worth of echoed
              # scoring would take hours on this server (see PROMPTS)
              + [{"model": str(resolve("gemma3-270m").path), "model_alias": "gemma-fast",
                  "logits_all": False, **common}]}
    path = tmp_path_factory.mktemp("server") / "config.json"
    path.write_text(json.dumps(config))
    with llama_server(["--config_file", str(path)], port) as url:
        yield url


def _dist(scores: tuple[float, ...]) -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    p = np.exp(s - s.max())
    return p / p.sum()


def test_an_endpoint_seat_scores_choices_as_a_local_seat_does(server: str) -> None:
    remote = HttpBackend(server, "gemma3-270m", resolve("gemma3-270m"))
    assert remote.choice_method == "logprobs"
    assert remote.describe()["served_as"] == "gemma3-270m"
    local = LlamaCppBackend(resolve("gemma3-270m"), n_ctx=512)
    for prompt in PROMPTS:
        here = asyncio.run(local.choose(prompt, OPTIONS, seed=3, temperature=1.0))
        there = asyncio.run(remote.choose(prompt, OPTIONS, seed=3, temperature=1.0))
        assert here.logprobs is not None and there.logprobs is not None
        tv = 0.5 * float(np.abs(_dist(here.logprobs) - _dist(there.logprobs)).sum())
        assert tv < MAX_TV, (prompt, here.logprobs, there.logprobs)
        top = np.sort(here.logprobs)
        if top[-1] - top[-2] > CLEAR_MARGIN:
            assert int(np.argmax(there.logprobs)) == int(np.argmax(here.logprobs))


def test_the_probe_trusts_echoed_scores_only_when_they_are_the_models_own(server: str) -> None:
    """Each served model: the probe says "logprobs" exactly when the server's echoed
    log-probabilities of the probe text match the local model's (llama-cpp-python 0.3.x
    shifts them by one token for models without a BOS token, such as SmolLM2)."""
    for name in MODELS:
        remote = HttpBackend(server, name, resolve(name))
        data = remote._post({"prompt": PROBE, "max_tokens": 1, "temperature": 0.0,
                             "echo": True, "logprobs": 1})
        echoed = [v for _, v in _echoed(data, PROBE) or [] if v is not None]
        local = LlamaCppBackend(resolve(name), n_ctx=512)
        # the probe's last token scored locally, as an option after the rest of the text
        head, tail = PROBE.rsplit(" ", 1)
        mine = asyncio.run(local.choose(head, [" " + tail, " 99"], seed=0, temperature=1.0))
        assert mine.logprobs is not None
        agrees = bool(echoed) and abs(echoed[-1] - mine.logprobs[0]) < 1.0
        assert remote.choice_method == ("logprobs" if agrees else "grammar"), (name, echoed)


def test_two_models_of_one_server_play_one_game(server: str, tmp_path: Path) -> None:
    """`--agents MODEL@URL,...`: each seat's requests name its model, and the header records
    the model it was served as and how its choices were made."""
    out = tmp_path / "g.jsonl"
    rules = tmp_path / "short.toml"
    rules.write_text("max_days = 1\n")
    assert main(["play", "--agents", f"gemma-fast@{server},smollm2-135m@{server}",
                 "--rules", str(rules), "--players", "4", "--max-tokens", "8", "--ctx", "512",
                 "--seed", "4", "--quiet", "--out", str(out)]) == 0
    events = read_transcript(out).events
    assert events[-1].kind == "game_over"
    agents = [s["agent"] for s in events[0].players]  # type: ignore[attr-defined]
    assert {a["served_as"] for a in agents} == {"gemma-fast", "smollm2-135m"}
    assert all(a["endpoint"] == server for a in agents)
    assert {a["choice_method"] for a in agents if a["served_as"] == "gemma-fast"} == {"grammar"}
    smol = next(a for a in agents if a["served_as"] == "smollm2-135m")
    assert smol["sha256"] == resolve("smollm2-135m").sha256  # a local copy adds its details
    assert [e for e in events if e.kind == "invalid_action"] == []


def test_each_spec_may_name_its_own_server(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Several servers in one game: each is checked before the game starts, and one that is
    not there is one error line naming it."""
    gone = f"http://127.0.0.1:{free_port()}/v1"
    assert main(["play", "--agents", f"gemma3-270m,smollm2-135m@{gone}", "--quiet",
                 "--out", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot reach endpoint" in err and gone in err and len(err.splitlines()) == 1
