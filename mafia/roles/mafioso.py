from mafia.roles.spec import MAFIA, RoleSpec

SPEC = RoleSpec(name="mafia", side=MAFIA, deal_order=1, plural="mafia", night="team_kill",
                default_count=lambda players: max(1, players // 3))
