"""Which build played: the package version, the git commit of a checkout, and hashes of the
code and of the prompt templates, recorded in every transcript header and sweep manifest.

A figure is only comparable with another when the same players made both; the hashes tell a
sweep resumed after an edit (or a report pooling two folders) that the players changed, even
between commits. `sources` covers the Python code that plays (engine and players, not the CLI, reports
or training), `prompts`
every file under prompts/ (what models read). Both name files as in a checkout (mafia/...,
agents/..., prompts/...), so an installed package and the checkout it came from agree.
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from mafia import __version__

ROOT = Path(__file__).resolve().parent.parent  # the checkout, when run from one
# Code that never changes a game (how games are launched, reported, replayed, trained on):
# editing it keeps the sources hash, so a sweep still resumes.
NOT_PLAYING = ("mafia/cli", "mafia/report", "mafia/train", "mafia/executors",
               "mafia/bench.py", "mafia/render.py", "mafia/stats.py")
# The build fields that define how games are played (compared when a sweep resumes); the
# commit is recorded only: a commit that changes no code or prompt plays the same games.
COMPARED = ("version", "sources", "prompts")


def trees() -> dict[str, Path]:
    """The folders of the three trees, by the name they have in a checkout: mafia/ (the
    engine and the app), agents/ (`mafia.agents`) and prompts/ (`mafia.prompts`). Installed,
    the last two sit inside mafia/; hashes name files by tree, so both layouts agree."""
    out = {}
    for label, module in (("mafia", "mafia"), ("agents", "mafia.agents"),
                          ("prompts", "mafia.prompts")):
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.submodule_search_locations, module
        out[label] = Path(list(spec.submodule_search_locations)[0]).resolve()
    return out


def tree_hash(folders: Mapping[str, Path], pattern: str, skip: Sequence[str] = (),
              others: Sequence[Path] = ()) -> str:
    """sha256 (16 hex digits) over the files matching pattern under each labelled folder
    (their names as LABEL/relative path, and bytes), leaving out paths under `skip` and any
    folder that is another tree's, hashed or not (`others`; installed, mafia/agents is the
    agents tree and mafia/prompts the prompts tree)."""
    roots = {p.resolve() for p in (*folders.values(), *others)}
    digest = hashlib.sha256()
    named = []
    for label, folder in folders.items():
        for path in folder.rglob(pattern):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            inner = [r for r in roots if folder.resolve() in r.parents]  # trees nested in this one
            if any(r in path.resolve().parents for r in inner):
                continue  # inside another tree, hashed under that tree's label (or not at all)
            named.append((f"{label}/{path.relative_to(folder).as_posix()}", path))
    for name, path in sorted(named):
        if any(name == s or name.startswith(s + "/") for s in skip):
            continue
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _git(*args: str) -> str | None:
    if not (ROOT / ".git").exists():
        return None  # an installed package, not a checkout
    try:
        out = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None  # no git on this machine, or not a repository after all
    return out.stdout.strip()


@lru_cache(maxsize=1)
def build() -> dict[str, Any]:
    """This process's build, computed once: version, commit (None outside a checkout),
    dirty (code or prompts differ from the commit), sources and prompts hashes."""
    commit = _git("rev-parse", "HEAD")
    dirty = None
    if commit is not None:
        status = _git("status", "--porcelain", "--", "mafia", "agents", "prompts")
        dirty = bool(status)
    folders = trees()
    code = {k: v for k, v in folders.items() if k != "prompts"}
    return {"version": __version__, "commit": commit, "dirty": dirty,
            "sources": tree_hash(code, "*.py", NOT_PLAYING, others=[folders["prompts"]]),
            "prompts": tree_hash({"prompts": folders["prompts"]}, "*")}


def compared(info: dict[str, Any]) -> dict[str, Any]:
    """The fields of a build that define the games it plays."""
    return {k: info.get(k) for k in COMPARED}


def describe(info: dict[str, Any]) -> str:
    """One line for people: 0.2.0 @ 1a2b3c4 (+edits), sources ..., prompts ..."""
    commit = info.get("commit")
    where = f" @ {commit[:7]}{' (+edits)' if info.get('dirty') else ''}" if commit else ""
    return (f"{info.get('version')}{where}, sources {info.get('sources')}, "
            f"prompts {info.get('prompts')}")
