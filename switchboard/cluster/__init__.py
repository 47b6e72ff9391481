"""Several ``switchboard serve`` instances on one PostgreSQL store and one Redis ([cluster] in the config).

One instance leads: it holds a lease in Redis (``lease``), connects the ARI websocket and is the only one
that commands Asterisk and writes the router's journal. Every event its router handles goes, as the
journal line it already is, onto a Redis Stream (``journal_stream``); the other instances read it and
hand each event to their own router (``follower``), which is deterministic, so they hold the leader's
state at every moment: their consoles get pops and states from their own router's commands, and the one
that takes the lease next routes at once, with no replay (``member``). A console's orders on a follower
reach the leader's router over Redis (``asks``).

Fencing: the lease carries a token (a counter in Redis, one higher for every new leadership). The stream
refuses lines from any but the current token's holder (a Lua script checks the lease before each
XADD), so a deposed leader cannot put its history into the followers'; Asterisk cannot check a token,
so before every ARI request the instance checks that its lease is still valid by its own clock, with a
margin (``Lease.check``): a leader frozen past its lease sends nothing once it runs again.
"""
