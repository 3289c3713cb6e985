"""Every role module in this package, found at import time and ordered by `deal_order`.

A new role is a new module here with a module-level `SPEC: RoleSpec` (plus its prose in
prompts/roles.toml and its tests); nothing else lists roles."""

from __future__ import annotations

import importlib
import pkgutil

from mafia.roles.spec import MAFIA, TOWN, RoleSpec

_SKIP = frozenset({"spec", "registry"})


def _discover() -> tuple[RoleSpec, ...]:
    import mafia.roles as package

    specs = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name in _SKIP or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"mafia.roles.{info.name}")
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, RoleSpec):
            raise TypeError(f"mafia.roles.{info.name} defines no SPEC: RoleSpec")
        specs.append(spec)
    specs.sort(key=lambda s: (s.deal_order, s.name))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise TypeError(f"two role modules share a name: {names}")
    return tuple(specs)


SPECS: tuple[RoleSpec, ...] = _discover()
BY_NAME: dict[str, RoleSpec] = {s.name: s for s in SPECS}
# Sides in a fixed order: town, mafia, then roles' own sides by deal order.
SIDES: tuple[str, ...] = (TOWN, MAFIA) + tuple(
    dict.fromkeys(s.side for s in SPECS if s.side not in (TOWN, MAFIA)))


def spec(name: str) -> RoleSpec:
    return BY_NAME[str(name)]
