"""The installed package has one import name, `mafia`: the wheel built from this checkout puts
agents/ and prompts/ under it (`mafia.agents`, `mafia.prompts`), carries every module, template
and the bundled adapter, and, installed apart from the checkout, imports, finds its files and
hashes its build as the checkout does. (The rest of the suite runs on the editable install.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import mafia.agents
from mafia.provenance import build

REPO = Path(__file__).resolve().parent.parent

# Run inside the installed copy: import every module, find the package files, report the build.
PROBE = """
import importlib, importlib.util, json, pkgutil, sys
import mafia
from importlib.resources import files
mods = [m.name for m in pkgutil.walk_packages(mafia.__path__, "mafia.")]
for name in mods:
    importlib.import_module(name)
from mafia.agents.registry import ADAPTERS_DIR
from mafia.provenance import build
print(json.dumps({
    "file": mafia.__file__, "agents": importlib.import_module("mafia.agents").__file__,
    "modules": len(mods),
    "top_agents": importlib.util.find_spec("agents") is not None,
    "top_prompts": importlib.util.find_spec("prompts") is not None,
    "layout": (files("mafia.prompts") / "plain" / "layout.j2").is_file(),
    "adapter": (ADAPTERS_DIR / "gemma3-270m-mafia.gguf").is_file(),
    "build": build()}))
"""


def _expected_files() -> set[str]:
    """What the wheel must hold, named as installed."""
    out = set()
    for tree, prefix in (("mafia", "mafia"), ("agents", "mafia/agents"),
                         ("prompts", "mafia/prompts")):
        for p in (REPO / tree).rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".j2",
                                                                               ".gguf"):
                out.add(f"{prefix}/{p.relative_to(REPO / tree).as_posix()}")
    return out


def test_the_editable_install_maps_the_folders_under_mafia() -> None:
    assert Path(mafia.agents.__file__).resolve().parent == REPO / "agents"


def test_the_wheel_installs_one_import_name_with_every_file(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(REPO)], check=True,
                   capture_output=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("mafia-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    top = {n.split("/")[0] for n in names} - {n.split("/")[0] for n in names
                                               if n.split("/")[0].endswith(".dist-info")}
    assert top == {"mafia"}
    assert not _expected_files() - names

    # Installed into a bare folder and run from elsewhere without site (no editable finder,
    # no checkout on the path); this environment's site-packages only supply the dependencies.
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, cwd=tmp_path)
    deps = sysconfig.get_paths()["purelib"]
    out = subprocess.run([sys.executable, "-S", "-c", PROBE], capture_output=True, text=True,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": f"{target}:{deps}"})
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout)
    assert Path(got["file"]).parent == target / "mafia"
    assert Path(got["agents"]).parent == target / "mafia" / "agents"
    assert not got["top_agents"] and not got["top_prompts"]
    assert got["layout"] and got["adapter"] and got["modules"] > 50
    here = build()
    assert {k: got["build"][k] for k in ("version", "sources", "prompts")} == \
        {k: here[k] for k in ("version", "sources", "prompts")}
    assert got["build"]["commit"] is None  # installed: not a checkout
