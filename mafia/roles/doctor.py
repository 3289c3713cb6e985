from mafia.roles.spec import TOWN, RoleSpec

SPEC = RoleSpec(name="doctor", side=TOWN, deal_order=2, plural="doctors", night="protect",
                default_count=lambda players: 1)
