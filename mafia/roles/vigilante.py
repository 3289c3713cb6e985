from mafia.roles.spec import TOWN, RoleSpec

# Town, with one shot per game: any night it may kill one other living player (a doctor's
# protection saves them) or hold fire.
SPEC = RoleSpec(name="vigilante", side=TOWN, deal_order=5, plural="vigilantes",
                night="shoot", shots=1)
