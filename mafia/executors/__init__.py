"""Where a sweep's games are played. The local process pool lives in mafia/cli/sweep.py; the
Ray executor (ray_executor.py) spreads games over a cluster. Every executor leaves the sweep
folder exactly as the local one does, so resume and `mafia report` do not care which ran."""
