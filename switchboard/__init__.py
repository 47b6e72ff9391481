"""Switchboard's entry points: the command line, the wiring of all packages (bootstrap) and the runtime
loop that owns the router. The only package that may import every other one."""
