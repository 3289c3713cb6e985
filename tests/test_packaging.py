"""The installed package has one import name, `mafia`: the wheel built from this checkout puts
agents/ and prompts/ under it (`mafia.agents`, `mafia.prompts`), carries every module, template
and the bundled adapter, and, installed apart from the checkout, imports, finds its files and
hashes its build as the checkout does. (The rest of the suite runs on the editable install.)

The layers are checked on that installed copy too (import-linter reads a package from its
folder, and only the installed one holds agents/ inside mafia/): the contracts in
pyproject.toml hold, and a core module that imports a player breaks them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import mafia.agents
from mafia.provenance import build

REPO = Path(__file__).resolve().parent.parent

# Run inside the installed copy: import every module, find the package files, report the build.
PROBE = """
import importlib, importlib.util, json, pkgutil, sys
import mafia
from importlib.resources import files
mods = [m.name for m in pkgutil.walk_packages(mafia.__path__, "mafia.")
        if not m.name.endswith(".__main__")]  # `python -m mafia` runs the CLI
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
            if p.is_file() and "__pycache__" not in p.parts and p.suffix in (
                    ".py", ".j2", ".gguf", ".toml", ".html", ".css", ".js"):
                out.add(f"{prefix}/{p.relative_to(REPO / tree).as_posix()}")
    return out


def test_the_editable_install_maps_the_folders_under_mafia() -> None:
    assert Path(mafia.agents.__file__).resolve().parent == REPO / "agents"


@pytest.fixture(scope="module")
def wheel_install(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wheel built from a copy of this checkout (a build/ folder left in the checkout
    could hold deleted modules), installed into a clean venv; returns the wheel and the
    venv's python. The venv borrows this environment's dependencies through a .pth line
    (tests never reach the network), which adds their folder but runs none of its .pth
    files, so this environment's editable install stays out."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "runs", "__pycache__", "*.egg-info", ".pytest_cache"))
    _check([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
            "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("mafia-*.whl")
    venv = tmp / "venv"
    _check([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _check([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
            str(wheel)], cwd=tmp)
    site = _check([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    deps = {p for p in sys.path if Path(p).name == "site-packages" and Path(p).is_dir()}
    deps |= {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.stdout.strip()) / "_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    return wheel, python


def _check(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a set-up step; on failure, fail with its output (not a bare CalledProcessError)."""
    out = subprocess.run(args, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    assert out.returncode == 0, f"{' '.join(args[:4])}...: {out.stdout[-1500:]}{out.stderr[-1500:]}"
    return out  # type: ignore[no-any-return]


def _run_installed(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the venv's python from outside the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(python), *args], capture_output=True, text=True,
                          cwd=python.parent.parent.parent, env=env)


def test_the_wheel_installs_one_import_name_with_every_file(
        wheel_install: tuple[Path, Path]) -> None:
    wheel, python = wheel_install
    names = set(zipfile.ZipFile(wheel).namelist())
    top = {n.split("/")[0] for n in names} - {n.split("/")[0] for n in names
                                               if n.split("/")[0].endswith(".dist-info")}
    assert top == {"mafia"}
    assert not _expected_files() - names

    out = _run_installed(python, "-c", PROBE)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout)
    site = Path(got["file"]).parent.parent
    assert site.name == "site-packages" and python.parent.parent in site.parents
    assert Path(got["agents"]).parent == site / "mafia" / "agents"
    assert not got["top_agents"] and not got["top_prompts"]
    assert got["layout"] and got["adapter"] and got["modules"] > 50
    here = build()
    assert {k: got["build"][k] for k in ("version", "sources", "prompts")} == \
        {k: here[k] for k in ("version", "sources", "prompts")}
    assert got["build"]["commit"] is None  # installed: not a checkout
    version = subprocess.run([str(python.parent / "mafia"), "--version"], capture_output=True,
                             text=True, cwd=python.parent)
    assert version.returncode == 0 and here["version"] in version.stdout


LINT = "import sys; from importlinter.cli import lint_imports_command; sys.argv = ['lint-imports', sys.argv[1]]; lint_imports_command()"


def test_the_layers_hold_and_a_core_module_importing_a_player_breaks_them(
        wheel_install: tuple[Path, Path]) -> None:
    _, python = wheel_install
    config = str(REPO / "pyproject.toml")
    out = _run_installed(python, "-c", LINT, config)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "2 kept, 0 broken" in out.stdout
    engine = Path(_run_installed(python, "-c", "import mafia.engine as e; print(e.__file__)"
                                 ).stdout.strip())
    original = engine.read_text()
    try:
        engine.write_text(original + "\nfrom mafia.agents.random_player import RandomPlayer\n")
        out = _run_installed(python, "-c", LINT, config)
        assert out.returncode != 0 and "mafia.engine -> mafia.agents.random_player" in out.stdout
    finally:
        engine.write_text(original)


def test_every_module_of_mafia_is_in_a_layer() -> None:
    """A new module must be placed in a layer (else the contract says nothing about it)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in contracts["contracts"] if c["type"] == "layers"]
    layered = {m.strip() for layer in layers for m in layer.replace("|", ":").split(":")}
    found = {f"mafia.{p.stem}" for p in (REPO / "mafia").glob("*.py") if p.stem != "__init__"}
    found |= {f"mafia.{p.name}" for p in (REPO / "mafia").iterdir()
              if (p / "__init__.py").is_file()}
    assert found | {"mafia.agents", "mafia.prompts"} == layered
