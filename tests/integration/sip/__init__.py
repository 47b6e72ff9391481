"""Real SIP on the Asterisk sandbox: SIPp plays the trunk's callers and the desk phones.

``harness`` starts and stops SIPp processes (bounded in time and in calls, loopback only) and reads what
each one logged; the scenarios and the list of phones live in ``telephony/sandbox/sipp/``. Used by the
integration tests ``tests/integration/test_sip_*.py`` and by ``bench/sip_latency.py``; it imports
nothing of Switchboard.
"""
