"""Read a GGUF file's metadata header (no weights): name, quantization, chat template.

A few dozen lines instead of loading the model through llama.cpp, so `mafia models` is quick.
Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# general.file_type values (llama_ftype) for the usual quantizations.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
}
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}
_MAX_STRING = 1 << 26  # 64 MiB: far above any real chat template
_MAX_ARRAY = 1 << 28  # far above any real vocabulary
_WANTED = ("general.name", "general.architecture", "general.file_type",
           "tokenizer.chat_template", "general.type", "adapter.type",
           "mafia.base_sha256", "mafia.prompt_hash")


class GGUFError(ValueError):
    pass


@dataclass(frozen=True)
class GGUFInfo:
    name: str | None
    architecture: str | None
    quantization: str | None
    chat_template: str | None
    general_type: str | None = None  # "adapter" for a LoRA adapter, else usually None/"model"
    # written by `mafia train`: the base GGUF and the plain prompt templates it trained on
    trained_base_sha256: str | None = None
    trained_prompt_hash: str | None = None


def _read(f: BinaryIO, fmt: str) -> object:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise GGUFError("file ends inside the metadata header")
    return struct.unpack(fmt, data)[0]


def _string(f: BinaryIO) -> str:
    n = int(_read(f, "<Q"))  # type: ignore[arg-type]
    if n > _MAX_STRING:
        raise GGUFError(f"metadata string of {n} bytes")
    data = f.read(n)
    if len(data) != n:
        raise GGUFError("file ends inside the metadata header")
    return data.decode("utf-8", errors="replace")


def _value(f: BinaryIO, vtype: int, keep: bool) -> object:
    if vtype in _SCALARS:
        return _read(f, _SCALARS[vtype])
    if vtype == 8:
        return _string(f)
    if vtype == 9:
        item_type = int(_read(f, "<I"))  # type: ignore[arg-type]
        count = int(_read(f, "<Q"))  # type: ignore[arg-type]
        if count > _MAX_ARRAY:
            raise GGUFError(f"metadata array of {count} items")
        if item_type in _SCALARS:  # skip fixed-size arrays without decoding them
            f.seek(struct.calcsize(_SCALARS[item_type]) * count, 1)
        elif item_type == 8:  # string arrays (a 262k-token vocabulary): skip, don't decode
            unpack = struct.Struct("<Q").unpack
            for _ in range(count):
                length = f.read(8)
                if len(length) != 8:
                    raise GGUFError("file ends inside the metadata header")
                f.seek(unpack(length)[0], 1)
        else:
            for _ in range(count):
                _value(f, item_type, False)
        return None
    raise GGUFError(f"unknown metadata value type {vtype}")


def read_gguf_info(path: str | Path) -> GGUFInfo:
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise GGUFError(f"{path} is not a GGUF file")
        version = _read(f, "<I")
        if version not in (2, 3):
            raise GGUFError(f"{path}: unsupported GGUF version {version}")
        _read(f, "<Q")  # tensor count
        n_kv = int(_read(f, "<Q"))  # type: ignore[arg-type]
        found: dict[str, object] = {}
        for _ in range(n_kv):
            key = _string(f)
            vtype = int(_read(f, "<I"))  # type: ignore[arg-type]
            value = _value(f, vtype, key in _WANTED)
            if key in _WANTED:
                found[key] = value
    ftype = found.get("general.file_type")
    quantization = None
    if ftype is not None:
        if not isinstance(ftype, int) or isinstance(ftype, bool):
            raise GGUFError(f"general.file_type is {type(ftype).__name__}, not an integer")
        quantization = FILE_TYPES.get(ftype, f"type {ftype}")
    return GGUFInfo(
        name=_opt_str(found.get("general.name")),
        architecture=_opt_str(found.get("general.architecture")),
        quantization=quantization,
        chat_template=_opt_str(found.get("tokenizer.chat_template")),
        general_type=_opt_str(found.get("general.type")),
        trained_base_sha256=_opt_str(found.get("mafia.base_sha256")),
        trained_prompt_hash=_opt_str(found.get("mafia.prompt_hash")),
    )


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
