"""Roles as data: one module per role (villager, mafia, doctor, detective, godfather,
vigilante, jester), each defining a `RoleSpec`; `registry` finds them."""
