"""The one table of public error codes: every error class of the core packages is accounted for, a
subclass answers with its parent's code, and the docs list exactly the table's codes per channel.

``REACHES_A_CLIENT`` is written out by hand (it is the specification); an error class a package gains
fails ``test_every_error_class_of_the_core_packages_is_accounted_for`` until it is given its code here and,
if its parent's is not right, in ``agent_console.error_codes.PUBLIC``.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import re
from pathlib import Path

import pytest
from aiohttp import web

from agent_console import errors as console
from agent_console.api import errors as api
from agent_console.error_codes import PUBLIC, REST, WEBSOCKET, Where, public, refusal
from crm_core.csv.record_validation import WorkerLost
from crm_core.domain import deliveries, oncall
from crm_core.domain import errors as crm
from crm_core.domain.journal import Fenced
from crm_core.domain.users import DuplicateUsername, UserNotFound
from crm_core.sql.instance import StoreInUse
from routing import errors as routing
from routing.rebind import PlanEditRefused
from telephony import errors as telephony

ROOT = Path(__file__).resolve().parents[2]
CORE = ("routing", "crm_core", "telephony")

REACHES_A_CLIENT: dict[type[Exception], str] = {
    routing.RoutingError: "routing-refused",
    routing.IllegalTransition: "not-allowed-now",
    routing.UnknownAgent: "unknown-agent",
    routing.UnknownReason: "unknown-reason",
    routing.UnknownQueue: "unknown-queue",
    routing.AgentNotReady: "agent-not-ready",
    routing.NoOnCall: "no-on-call",
    routing.NoWarmPatch: "no-warm-patch",
    routing.NotInTraining: "agent-not-in-training",
    routing.AgentInTraining: "agent-in-training",
    routing.TrainingCallKept: "training-call-kept",
    crm.CrmError: "internal-error",
    crm.InvalidInput: "invalid-input",
    crm.InvalidPhoneNumber: "invalid-phone-number",
    crm.InvalidPhoneKind: "invalid-phone-kind",
    crm.ValidationFailed: "invalid-input",
    crm.InvalidCursor: "invalid-cursor",
    crm.InvalidCsvHeader: "invalid-csv-header",
    crm.InvalidImportMapping: "invalid-import-mapping",
    crm.NotFound: "not-found",
    crm.CustomerNotFound: "not-found",
    crm.CaseNotFound: "not-found",
    crm.CallNotFound: "not-found",
    crm.Conflict: "conflict",
    crm.DuplicateExternalId: "conflict",
    crm.CustomerAnonymised: "conflict",
    crm.IllegalCaseTransition: "conflict",
    crm.CaseClosed: "conflict",
    crm.UnsupportedDatabase: "internal-error",  # the configuration's fault, never the request's
    oncall.InvalidSchedule: "invalid-schedule",
    oncall.BusinessNotFound: "unknown-business",
    oncall.PersonNotFound: "not-found",
    oncall.OverrideNotFound: "not-found",
    oncall.OverlappingOverrides: "overlapping-overrides",
}
NEVER_REACHES_A_CLIENT: dict[type[Exception], str] = {
    UserNotFound: "users are managed on the command line; sign-in's users.get and check return None",
    DuplicateUsername: "users are managed on the command line",
    WorkerLost: "the import validates a lost worker's chunks again in its own process",
    StoreInUse: "raised before the service listens; switchboard serve prints it and exits",
    PlanEditRefused: "raised in a start-up's restore, which then starts clean and logs why",
    telephony.TelephonyError: "AriPbx turns ARI failures into events (OfferFailed, ...); the CLI prints them",
    telephony.AriRequestError: "as TelephonyError",
    telephony.AriUnavailable: "as TelephonyError",
    deliveries.InvalidDelivery: "the message planner checks each recipient first and tells the agent",
    deliveries.DeliveryNotFound: "the read link (/m/<token>) answers a plain 404, saying nothing more",
    deliveries.IllegalDeliveryTransition: "the read link shows the message as it is, read or not",
    Fenced: "a deposed leader's journal write; switchboard/cluster/fenced.py logs it and drops the write",
}
BUILTIN_ERRORS = {
    n for n, k in vars(builtins).items() if isinstance(k, type) and issubclass(k, BaseException)
}


def exception_classes(*packages: str) -> set[type[BaseException]]:
    """Every exception class defined in ``packages``' modules. The source is read first, so only the
    modules that define one are imported (importing, say, the migrations' env.py would run Alembic)."""
    classes: dict[Path, list[tuple[str, list[str]]]] = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            classes[path] = [
                (node.name, [ast.unparse(b).rpartition(".")[2] for b in node.bases])
                for node in tree.body
                if isinstance(node, ast.ClassDef)
            ]
    names = set(BUILTIN_ERRORS)
    while grown := {n for found in classes.values() for n, bases in found if set(bases) & names} - names:
        names |= grown
    found_classes: set[type[BaseException]] = set()
    for path, defined in classes.items():
        if any(name in names for name, _ in defined):
            module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
            found_classes |= {getattr(module, name) for name, _ in defined if name in names}
    return found_classes


def test_every_error_class_of_the_core_packages_is_accounted_for() -> None:
    assert exception_classes(*CORE) == REACHES_A_CLIENT.keys() | NEVER_REACHES_A_CLIENT.keys()


@pytest.mark.parametrize(("error", "code"), REACHES_A_CLIENT.items(), ids=lambda e: getattr(e, "__name__", e))
def test_each_core_error_that_reaches_a_client_has_its_code(error: type[Exception], code: str) -> None:
    assert public(error).code == code


def test_every_error_of_the_console_has_an_entry_of_its_own() -> None:
    roots = {console.ConsoleError, api.ApiError}  # never raised themselves
    assert exception_classes("agent_console") - roots <= PUBLIC.keys()


class NotAllowedWhileRinging(routing.IllegalTransition):
    pass


class SomethingNew(routing.RoutingError):
    pass


class OrderNotFound(crm.NotFound):
    pass


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotAllowedWhileRinging("a1", "ringing", "hold"), "not-allowed-now"),
        (SomethingNew("?"), "routing-refused"),
        (OrderNotFound("no order 7"), "not-found"),
        (KeyError("a bug"), "internal-error"),
    ],
)
def test_given_a_subclass_without_an_entry_then_its_nearest_ancestors_code(
    error: Exception, code: str
) -> None:
    assert public(error).code == code


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (api.InvalidDate("from: is required", "from"), 400, {"error": "invalid-date", "field": "from"}),
        (crm.InvalidPhoneNumber("12"), 422, {"error": "invalid-phone-number", "field": "phones"}),
        (crm.CustomerNotFound(7), 404, {"error": "not-found", "message": "no customer with id 7"}),
        (console.Forbidden("role agent may not"), 403, {"error": "forbidden"}),
        (web.HTTPMethodNotAllowed("PUT", ["GET"]), 405, {"error": "method-not-allowed"}),
        (web.HTTPTooManyRequests(), 429, {"error": "http-error", "message": "Too Many Requests"}),
    ],
)
def test_given_a_refusal_then_the_http_response_has_its_status_and_code(
    error: Exception, status: int, body: dict[str, str]
) -> None:
    response = refusal(error)
    assert response.text is not None
    sent = json.loads(response.text)
    assert response.status == status and sent.items() >= body.items(), sent
    assert ("field" in sent) == ("field" in body)


def test_every_code_is_kebab_case() -> None:
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", p.code) for p in PUBLIC.values())


def doc_rows(name: str, heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading`` in docs/``name``, without the header row."""
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    section = text[text.index(f"\n{heading}\n") :]
    table = re.search(r"^\|.*?(?=\n\n|\Z)", section, re.M | re.S)
    assert table is not None
    lines = table.group(0).splitlines()[2:]
    return [[cell.strip().strip("`") for cell in line.strip("|").split("|")] for line in lines]


def table_codes(where: Where) -> set[tuple[str, str]]:
    """(status, code) for every entry a client meets on ``where``; aiohttp's generic refusal keeps its own
    status, whatever aiohttp chose."""
    return {
        ("aiohttp's" if kind is web.HTTPException else str(p.status), p.code)
        for kind, p in PUBLIC.items()
        if where in p.where
    }


def test_the_api_docs_list_exactly_the_tables_rest_codes() -> None:
    assert {(status, code) for status, code, _ in doc_rows("api.md", "## Errors")} == table_codes(REST)


def test_the_protocol_docs_list_exactly_the_tables_websocket_codes() -> None:
    listed = [code for code, _ in doc_rows("console-protocol.md", "## Error codes")]
    assert len(listed) == len(set(listed))
    assert set(listed) == {code for _, code in table_codes(WEBSOCKET)}
