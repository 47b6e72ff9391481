"""The PBX adapter: Asterisk's REST Interface (ARI) in, domain events out; router commands in, ARI calls out.

Translates and carries out; it never decides who gets a call (that is ``routing``). Must not import
agent_console or crm_core.
"""
