"""Who may do what: the one table of actions and the roles allowed each, for the API and the console.

Roles are the store's (``crm_core.domain.users.Role``) plus ``api-token``, the role of a bearer token from the
config (a machine integration, trusted with everything the API offers). ``docs/access.md`` prints this
table; ``tests/agent_console/test_access_matrix.py`` proves every route and message type against it.
"""

from __future__ import annotations

from agent_console.protocol import KINDS
from crm_core.domain.users import Role

API_TOKEN = "api-token"
PEOPLE = frozenset(str(r) for r in Role)
STAFF = frozenset({str(Role.SUPERVISOR), str(Role.ADMIN), API_TOKEN})
EVERYONE = PEOPLE | {API_TOKEN}

# action -> the roles allowed it
PERMISSIONS: dict[str, frozenset[str]] = {
    "api.schema": EVERYONE,
    "customers.read": EVERYONE,
    "customers.write": EVERYONE,  # create, edit contact details: an agent takes down a new caller
    "customers.delete": STAFF,
    "customers.anonymise": STAFF,
    "customers.import": STAFF,
    "accounts.read": EVERYONE,
    "accounts.write": STAFF,  # balances, credit limits and orders are not the phone's to change
    "cases.read": EVERYONE,
    "cases.write": EVERYONE,
    "calls.read": EVERYONE,
    "calls.wrap-up": EVERYONE,  # the interaction: outcome notes, disposition, linked case
    "calls.export": STAFF,
    "reports.read": STAFF,  # the supervisors' figures: how the floor and each agent did
    "oncall.read": EVERYONE,  # who is on call for a business, its schedule, its gaps, its audit
    "oncall.write": STAFF,  # a business's on-call people and schedule
    "training.manage": STAFF,  # who is in training (practice callers only): never an agent's own say
    # The console acts as the user's agent id; a user without one is refused with ``no-agent``.
    "console.acd": PEOPLE,
    "console.call": PEOPLE,  # call control: hang up, hold, resume, transfer, escalate
    # after-call work; only the agent who took the call may do it (``not-your-call``)
    "console.desk": PEOPLE,
    # the live wallboard, and ordering another agent not-ready or logged out; needs no agent id
    "console.supervise": frozenset({str(Role.SUPERVISOR), str(Role.ADMIN)}),
}

# Whose call it is: an action on one call is its agent's own (the call log's ``agent`` is the agent id
# the user acts as); the roles named here may do it on another agent's call too. The API and the console
# both ask ``may_touch_call``; a refusal is ``not-your-call`` (HTTP 403).
ANY_CALL: dict[str, frozenset[str]] = {
    "calls.read": STAFF,  # the whole center's call log; an agent lists their own calls, or a customer's
    "calls.wrap-up": STAFF,  # a supervisor corrects a disposition, an integration writes one
    "console.desk": frozenset(),  # the console's form is for the call the user's own agent id took
}

# (method, path under /api/v1) -> action
API_ACTIONS: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "api.schema",
    ("POST", "/customers"): "customers.write",
    ("GET", "/customers"): "customers.read",
    ("POST", "/customers/import"): "customers.import",
    ("GET", "/customers/by-number/{number}"): "customers.read",
    ("GET", "/customers/{id}"): "customers.read",
    ("PATCH", "/customers/{id}"): "customers.write",
    ("DELETE", "/customers/{id}"): "customers.delete",
    ("POST", "/customers/{id}/anonymise"): "customers.anonymise",
    ("GET", "/customers/{id}/overview"): "customers.read",
    ("GET", "/customers/{id}/account"): "accounts.read",
    ("PATCH", "/customers/{id}/account"): "accounts.write",
    ("GET", "/customers/{id}/orders"): "accounts.read",
    ("POST", "/customers/{id}/orders"): "accounts.write",
    ("POST", "/cases"): "cases.write",
    ("GET", "/cases"): "cases.read",
    ("GET", "/cases/{id}"): "cases.read",
    ("PATCH", "/cases/{id}"): "cases.write",
    ("POST", "/cases/{id}/comments"): "cases.write",
    ("POST", "/cases/{id}/close"): "cases.write",
    ("GET", "/calls"): "calls.read",
    ("GET", "/calls/export.csv"): "calls.export",
    ("PATCH", "/calls/{id}"): "calls.wrap-up",
    ("GET", "/reports/calls"): "reports.read",
    ("GET", "/reports/calls.csv"): "reports.read",
    ("GET", "/reports/agents"): "reports.read",
    ("GET", "/reports/escalations"): "reports.read",
    ("GET", "/messages/{id}/deliveries"): "cases.read",  # a taken message (a case): who was told, how it went
    ("GET", "/oncall/{business}/people"): "oncall.read",
    ("POST", "/oncall/{business}/people"): "oncall.write",
    ("PATCH", "/oncall/{business}/people/{id}"): "oncall.write",
    ("GET", "/oncall/{business}/schedule"): "oncall.read",
    ("PUT", "/oncall/{business}/schedule"): "oncall.write",
    ("PUT", "/oncall/{business}/rotations/{tier}"): "oncall.write",
    ("DELETE", "/oncall/{business}/rotations/{tier}"): "oncall.write",
    ("POST", "/oncall/{business}/overrides"): "oncall.write",
    ("PATCH", "/oncall/{business}/overrides/{id}"): "oncall.write",
    ("DELETE", "/oncall/{business}/overrides/{id}"): "oncall.write",
    ("GET", "/oncall/{business}/on-call"): "oncall.read",
    ("GET", "/oncall/{business}/gaps"): "oncall.read",
    ("GET", "/oncall/{business}/changes"): "oncall.read",
    ("GET", "/training"): "training.manage",
    ("PUT", "/training/{agent}"): "training.manage",
    ("DELETE", "/training/{agent}"): "training.manage",
}

# console message type -> action: each type's entry in the protocol's registry says it
CONSOLE_ACTIONS: dict[str, str] = {kind: entry.action for kind, entry in KINDS.items()}


def authorize(role: str, action: str) -> bool:
    """True when ``role`` may do ``action``; an unknown action is nobody's (a typo must not open a door)."""
    return role in PERMISSIONS.get(action, frozenset())


def may_touch_call(role: str, action: str, agent: str | None, call_agent: str | None) -> bool:
    """True when a user of ``role`` acting as agent id ``agent`` may do ``action`` on a call that
    ``call_agent`` took (None: no agent took it); ``authorize`` has said yes to the action already."""
    return role in ANY_CALL.get(action, frozenset()) or (agent is not None and agent == call_agent)


def markdown() -> str:
    """The table as docs/access.md prints it (a test keeps the two identical)."""
    roles = [*(str(r) for r in Role), API_TOKEN]
    lines = [
        "| action | " + " | ".join(roles) + " | routes / messages |",
        "|---|" + "---|" * len(roles) + "---|",
    ]
    for action, allowed in PERMISSIONS.items():
        where = [f"`{m} {p}`" for (m, p), a in API_ACTIONS.items() if a == action]
        where += [f"`{kind}`" for kind, a in CONSOLE_ACTIONS.items() if a == action]
        marks = " | ".join("yes" if r in allowed else "—" for r in roles)
        lines.append(f"| `{action}` | {marks} | {', '.join(where)} |")
    lines += ["", "| on a call another agent took | " + " | ".join(roles) + " |",
              "|---|" + "---|" * len(roles)]  # fmt: skip
    for action, anyone in ANY_CALL.items():
        marks = " | ".join("yes" if r in anyone else "not-your-call" for r in roles)
        lines.append(f"| `{action}` | {marks} |")
    return "\n".join(lines) + "\n"
