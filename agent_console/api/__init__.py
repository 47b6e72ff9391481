"""The customer store's HTTP API: JSON over aiohttp, mounted in the console app under ``/api/v1``.

Handlers translate HTTP to ``crm_core`` calls and back; they decide nothing the store decides. Every
request is authenticated by ``auth`` (one function returning a ``Principal``), every body is read by a
strict parser in ``bodies``, and every refusal leaves as ``{"error": code, "message": ...}`` through the
one table of public codes, ``agent_console.error_codes``. Must not import telephony/, switchboard/ or config/.
"""
