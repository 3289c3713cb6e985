from mafia.roles.spec import MAFIA, RoleSpec

# One of the mafia (knows them, chats and kills with them) whom a check shows as a villager:
# as "town" when detective_learns = "team", as "villager" when it is "role".
SPEC = RoleSpec(name="godfather", side=MAFIA, deal_order=4, plural="godfathers",
                night="team_kill", appears_as="villager")
