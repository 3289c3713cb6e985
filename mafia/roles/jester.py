from mafia.roles.spec import RoleSpec

# Its own side: the jester wins alone when the town votes it out, and the game ends there.
# Killed at night, or alive at the end, it loses. It counts among "the rest" for the
# mafia's majority and is not mafia for the town's win.
SPEC = RoleSpec(name="jester", side="jester", deal_order=6, plural="jesters",
                wins_when_voted_out=True)
