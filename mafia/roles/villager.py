from mafia.roles.spec import TOWN, RoleSpec

# Villagers fill the seats the other roles leave (see config.default_role_counts).
SPEC = RoleSpec(name="villager", side=TOWN, deal_order=0, plural="villagers")
