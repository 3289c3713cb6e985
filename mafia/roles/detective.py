from mafia.roles.spec import TOWN, RoleSpec

SPEC = RoleSpec(name="detective", side=TOWN, deal_order=3, plural="detectives",
                night="investigate", default_count=lambda players: 1)
