"""The agents' console: an aiohttp web app serving the page and the websocket that carries screen pops.

Talks to the router only through the runtime's ``ask`` (agent actions), receives the commands it shows
from the bus (the wiring's command table), and reads live state through ``router_reader.RouterReader``.
Must not import telephony; reads the store only through ``crm_core.domain.ports``.
"""
