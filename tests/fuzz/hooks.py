"""Schemathesis hooks for the run of `make test-api` (scripts/api-fuzz.sh): loaded through SCHEMATHESIS_HOOKS.

Schemathesis' positive_data_acceptance check expects every request that matches the OpenAPI description to be
accepted. Some of Relasi's rules depend on the workspace's data or on a file's content, which no JSON Schema can
state: a user id must be a member, a status one of the workspace's options, a property key one it defines, a phone
a number that exists, an import's columns those of its file, a cursor one the API gave out, and a date filter
names what its mode needs. A refusal for exactly those rules (every field the problem names is such a field) is
the API working; any other refusal of a valid request still fails the run.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

CUSTOMER_DATA_RULES = {"owner_id", "assignee_id", "status", "phone", "email", "source", "properties"}
PROPERTY_DATA_RULES = {"options"}
# (method, path): (statuses, fields whose rules depend on data)
DATA_DEPENDENT: dict[tuple[str, str], tuple[set[int], set[str]]] = {
    ("POST", "/api/v1/customers"): ({422}, CUSTOMER_DATA_RULES),
    ("PATCH", "/api/v1/customers/{customer_id}"): ({422}, CUSTOMER_DATA_RULES),
    ("PATCH", "/api/v1/customer-properties/{property_id}"): ({422}, PROPERTY_DATA_RULES),
    ("POST", "/api/v1/customer-imports"): ({415, 422}, {"file", "mapping"}),
    ("GET", "/api/v1/customers"): ({400}, {"cursor", "day", "month", "from", "to"}),
    # Rules between fields (only Restore in the Deleted view) and of the workspace (a property it defines, ids
    # that select someone).
    ("POST", "/api/v1/customers/bulk-jobs"): (
        {422},
        {"action", "property", "property_key", "ids", "filters"},
    ),
    # The value must suit the job's action and property; the job's count is the workspace's.
    ("POST", "/api/v1/customers/bulk-jobs/{job_id}/confirm"): ({422}, {"value"}),
    # A cursor is only valid when this list handed it out.
    ("GET", "/api/v1/customers/duplicates"): ({400}, {"cursor"}),
    # The two customers must differ: a rule between fields.
    ("POST", "/api/v1/customers/merge"): ({422}, {"merged_id"}),
}
# Interaction records: a person must be a member, a stage one of the workspace's pipelines of the kind, a customer
# one of the workspace's; a cursor one the API gave out.
RECORD_DATA_RULES = {"assignee_id", "reporter_id", "owner_id", "stage_id", "customers"}
for _plural in ("conversations", "campaigns", "companies", "tickets", "deals", "tasks"):
    DATA_DEPENDENT[("POST", f"/api/v1/{_plural}")] = ({422}, RECORD_DATA_RULES)
    DATA_DEPENDENT[("PATCH", f"/api/v1/{_plural}/{{record_id}}")] = ({422}, RECORD_DATA_RULES)
    DATA_DEPENDENT[("GET", f"/api/v1/{_plural}")] = ({400}, {"cursor"})
DATA_DEPENDENT[("GET", "/api/v1/conversations/{conversation_id}/messages")] = ({400}, {"cursor"})
DATA_DEPENDENT[("GET", "/api/v1/customers/{customer_id}/timeline")] = ({400}, {"cursor"})
DATA_DEPENDENT[("GET", "/api/v1/ledger-entries")] = ({400}, {"cursor"})
# A visitor names its customer and a WhatsApp message its category (rules between fields); a category has a price
# only from the price table's first date; `at` must be a real moment of the years Relasi accepts.
DATA_DEPENDENT[("POST", "/api/v1/usage-events")] = ({422}, {"customer_id", "category", "at", "type"})
# A top-up asks for visitors, WhatsApp or both, and a virtual account names its bank (rules between fields).
DATA_DEPENDENT[("POST", "/api/v1/top-up-orders")] = ({422}, {"__all__"})
DATA_DEPENDENT[("POST", "/api/v1/top-up-orders/{order_id}/confirm")] = ({422}, {"bank"})
# The date filters a mode needs; refused as missing only when the request left them out.
DATE_MODE_NEEDS = {"day": {"day"}, "month": {"month"}, "custom": {"from", "to"}}


def _problem_fields(response: Any) -> set[str]:
    try:
        errors = response.json().get("errors") or {}
    except ValueError:
        return set()
    return {field.split(".")[0] for field in errors}


def _date_rule(case: Any, field: str) -> bool:
    """True when the list refused `field` for a rule between parameters, not for its own value."""
    query = case.query or {}
    if field == "cursor":
        return True
    mode = str(query.get("date", ""))
    if field in DATE_MODE_NEEDS.get(mode, set()) and field not in query:
        return True
    # `to` before `from`: each value valid, their order not.
    return field == "to" and mode == "custom" and "from" in query and "to" in query


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    if not isinstance(failure, RejectedPositiveData):
        return True
    statuses, fields = DATA_DEPENDENT.get(
        (case.operation.method.upper(), case.operation.path), (set(), set())
    )
    refused = _problem_fields(response)
    if response.status_code not in statuses or not refused or not refused <= fields:
        return True
    if case.operation.path == "/api/v1/customers" and case.operation.method.upper() == "GET":
        return not all(_date_rule(case, field) for field in refused)
    return False
