"""The agents' console: an aiohttp web app serving the page and the websocket that carries screen pops.

Talks to the router only through the runtime's ``ask`` (agent actions) and receives the router's
notice commands through a bus subscription. Must not import telephony; reads the store only through
``crm_core.ports``.
"""
