"""The PBX adapters: router commands in, domain events out. Translates and carries out; it never decides
who gets a call (that is ``routing``).

- ``pbx``: the ``Pbx`` port and ``AriPbx``, its Asterisk adapter (ARI's events websocket in, REST calls
  out), with ``ari_client`` (the REST client), ``translate`` (ARI JSON -> events, pure) and ``errors``;
- ``media``: what each channel hears (hold music, prompts): a pure table whose steps ``AriPbx`` carries
  out; ``prompts``: the sounds;
- ``simulated``: ``SimulatedPbx``, the same port played in-process with no PBX behind it (the benches).

Must not import agent_console, crm_core, switchboard or config.
"""
