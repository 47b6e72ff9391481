"""Switchboard's entry points and wiring: the only package that may import every other one.

- ``bootstrap``: ``build(settings, *, store, pbx, clock)``, the one place that wires config -> store ->
  router -> runtime -> PBX -> consoles, each dependency injected with a default; ``open_store`` for the
  service and the CLI alike;
- ``runtime``: the one asyncio task that owns the router; ``bus`` and ``command_table``: each of the
  router's commands to the consumers the table names (checked when the service is built);
- the consumers that are neither PBX nor console: ``identifier`` (IdentifyCaller), ``recorder`` (the call
  log), ``state_log`` (agent states), ``metrics`` (``/metrics``), with ``callers`` (the caller lookup they
  share), ``webhooks`` and ``retry``;
- ``cli``: the ``switchboard`` command.

Decides nothing about calls (that is ``routing``) and reads the environment only in ``cli``, to find the
config file.
"""
