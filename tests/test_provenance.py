"""Provenance: every transcript and sweep records which build played (version, commit, code
and prompt hashes, each model's files and profile); a sweep resumed by other players and a
report pooling two builds are refused unless asked, with one line naming what differs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

from mafia import __version__
from mafia.config import make_rules
from mafia.provenance import build, tree_hash
from mafia.sweep import SweepPlan

from mafia.agents.specs import ModelOptions, seat_identity


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "mafia", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_header_records_the_build(tmp_path: Path) -> None:
    out = tmp_path / "g.jsonl"
    assert cli("play", "--agents", "random", "--seed", "3", "--quiet", "--out", str(out)
               ).returncode == 0
    header = json.loads(out.read_text().splitlines()[0])
    b = header["build"]
    assert b == build() and b["version"] == __version__
    assert re.fullmatch(r"[0-9a-f]{16}", b["sources"]) and re.fullmatch(r"[0-9a-f]{16}",
                                                                           b["prompts"])
    if (REPO / ".git").exists():  # a checkout (CI clones one): the commit is known
        assert re.fullmatch(r"[0-9a-f]{40}", b["commit"]) and isinstance(b["dirty"], bool)


def test_the_hashes_follow_the_files(tmp_path: Path) -> None:
    (tmp_path / "code" / "skip").mkdir(parents=True)
    (tmp_path / "code" / "a.py").write_text("x = 1\n")
    (tmp_path / "code" / "skip" / "b.py").write_text("y = 1\n")
    code = {"code": tmp_path / "code"}
    first = tree_hash(code, "*.py", ["code/skip"])
    (tmp_path / "code" / "skip" / "b.py").write_text("y = 2\n")
    assert tree_hash(code, "*.py", ["code/skip"]) == first  # not playing code
    (tmp_path / "code" / "a.py").write_text("x = 2\n")
    assert tree_hash(code, "*.py", ["code/skip"]) != first
    (tmp_path / "code" / "a.py").write_text("x = 1\n")
    assert tree_hash(code, "*.py", ["code/skip"]) == first
    (tmp_path / "code" / "a.py").rename(tmp_path / "code" / "c.py")  # names count too
    assert tree_hash(code, "*.py", ["code/skip"]) != first


def test_the_hashes_name_files_by_tree_whether_nested_or_side_by_side(tmp_path: Path) -> None:
    """A checkout has mafia/ and agents/ side by side; an installed wheel has agents inside
    mafia/ (as mafia.agents). The same files give the same hash."""
    side, nested = tmp_path / "side", tmp_path / "nested"
    for root, agents in ((side, side / "agents"), (nested, nested / "mafia" / "agents")):
        (root / "mafia" / "cli").mkdir(parents=True)
        agents.mkdir(parents=True, exist_ok=True)
        (root / "mafia" / "engine.py").write_text("e = 1\n")
        (root / "mafia" / "cli" / "main.py").write_text("c = 1\n")
        (agents / "seat.py").write_text("s = 1\n")
    for root in (side / "prompts", nested / "mafia" / "prompts"):  # not code, but has .py
        root.mkdir(parents=True)
        (root / "__init__.py").write_text("")
    hashes = [tree_hash({"mafia": r / "mafia", "agents": a}, "*.py", ["mafia/cli"], others=[t])
              for r, a, t in ((side, side / "agents", side / "prompts"),
                              (nested, nested / "mafia" / "agents",
                               nested / "mafia" / "prompts"))]
    assert hashes[0] == hashes[1]
    (nested / "mafia" / "agents" / "seat.py").write_text("s = 2\n")
    assert tree_hash({"mafia": nested / "mafia", "agents": nested / "mafia" / "agents"},
                     "*.py", ["mafia/cli"]) != hashes[0]


def test_a_sweep_resumed_by_other_players_is_refused_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "s"
    args = ("sweep", "--agents", "random", "--games", "4", "--seed", "1", "--out", str(out))
    assert cli(*args).returncode == 0
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["fingerprint"]["build"] == {k: build()[k] for k in
                                                ("version", "sources", "prompts")}
    assert manifest["builds"] == [{**build(), "seats": {"random": {"spec": "random"}}}]
    # As if the prompts had been edited since those games were played:
    manifest["fingerprint"]["build"]["prompts"] = "0" * 16
    manifest["builds"][0]["prompts"] = "0" * 16
    (out / "sweep.json").write_text(json.dumps(manifest))
    more = (*args[:4], "6", *args[5:])
    refused = cli(*more)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "differs in: build.prompts" in refused.stderr and "--mixed-builds" in refused.stderr
    assert len(list(out.glob("game-*.jsonl"))) == 4
    allowed = cli(*more, "--mixed-builds")
    assert allowed.returncode == 0, allowed.stderr
    manifest = json.loads((out / "sweep.json").read_text())
    assert [b["prompts"] for b in manifest["builds"]] == ["0" * 16, build()["prompts"]]
    assert len(list(out.glob("game-*.jsonl"))) == 6
    # ... and the report now sees two builds in the folder.
    report = cli("report", str(out), "--baseline-games", "0")
    assert report.returncode == 0  # the transcripts themselves were all played by this build


def test_a_report_does_not_pool_two_builds_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert cli("sweep", "--agents", "random", "--games", "5", "--seed", "2", "--out", str(out)
               ).returncode == 0
    first = sorted(out.glob("game-*.jsonl"))[0]
    lines = first.read_text().splitlines()
    header = json.loads(lines[0])
    header["build"]["sources"] = "f" * 16  # one game played by other code
    first.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    refused = cli("report", str(out), "--baseline-games", "0")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "2 different builds (4 and 1 games; differs in: build.sources)" in refused.stderr
    pooled = cli("report", str(out), "--baseline-games", "0", "--json", "--mixed-builds")
    assert pooled.returncode == 0, pooled.stderr
    builds = json.loads(pooled.stdout)["builds"]
    assert [(b["build"]["sources"], b["games"]) for b in builds] == [
        (build()["sources"], 4), ("f" * 16, 1)]


@pytest.mark.model
def test_a_model_seat_is_identified_by_its_files_and_profile() -> None:
    from mafia.agents.registry import resolve

    trained = resolve("gemma3-270m-mafia")
    seat = seat_identity("gemma3-270m-mafia", ModelOptions())
    assert seat == {"spec": "gemma3-270m-mafia", "sha256": trained.sha256,
                    "adapter_sha256": trained.adapter_sha256, "profile": "plain"}
    assert seat_identity("gemma3-270m", ModelOptions())["profile"] == "assisted"
    assert seat_identity("gemma3-270m-mafia", ModelOptions(profile="assisted"))["profile"] == (
        "assisted")
    plan = SweepPlan(("gemma3-270m-mafia", "random"), 0, make_rules(players=7), ModelOptions())
    assert plan.fingerprint()["seats"]["gemma3-270m-mafia"] == seat


def test_a_served_seat_is_identified_by_its_server_and_name() -> None:
    """`MODEL@URL`: the model named on that server; a local copy adds its files."""
    from mafia.agents.registry import resolve
    from mafia.agents.specs import split_endpoint

    url = "http://127.0.0.1:9/v1"
    assert split_endpoint(f"gemma3-270m@{url}") == ("gemma3-270m", url)
    assert split_endpoint("gemma3-270m@https://gpu.example/v1") == (
        "gemma3-270m", "https://gpu.example/v1")
    assert split_endpoint("gemma3-270m+my@adapter.gguf") == ("gemma3-270m+my@adapter.gguf", None)
    served = seat_identity(f"gemma3-270m@{url}", ModelOptions())
    assert served["sha256"] == resolve("gemma3-270m").sha256
    unknown = seat_identity(f"big-model@{url}", ModelOptions())
    assert unknown == {"spec": f"big-model@{url}", "endpoint": url, "profile": "auto"}
