"""The webhooks TDS wants in Zoho, compared with those Zoho has, and made so.

Per entity with a workflow module (price lists have none, ``zoho-books-api.md``)
TDS wants two webhooks, since a webhook's query parameters are fixed: one for
Created or Edited rules, and one for Deleted rules whose URL carries the action
parameter the receiver reads (``?event=deleted``, ``TDS_WEBHOOK_ACTION_PARAM``; a
header, ``TDS_WEBHOOK_ACTION_HEADER``, when no parameter is set). Both POST Zoho's
default payload to ``<url>/api/zoho/webhooks/<entity>`` and carry the secret.
They are found again by name (``tds-<entity>``, ``tds-<entity>-deleted``): a
missing one is created, one that exists is updated (its secret cannot be read
back, so it is set again), a second of the same name is deleted. Webhooks of
other names are left alone. Books' webhook API is documented for create only;
list, update and delete follow the usual Books pattern (unconfirmed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tds.config import Settings
from tds.entities import ENTITIES, Entity
from tds.errors import TDSError

PATH = "/settings/webhooks"
RECEIVER_PATH = "/api/zoho/webhooks"
DELETED = "deleted"
COMPARED = ("entity", "method", "url", "query_parameters", "headers", "description")
# How Zoho Books' UI names each workflow module.
MODULE_LABELS = {"item": "Items", "contact": "Customers", "invoice": "Invoices",
                 "bill": "Bills", "creditnote": "Credit Notes",
                 "inventory_adjustment": "Inventory Adjustments"}


class ZohoWebhookAPI(Protocol):
    """What registering needs from :class:`tds.zoho.UnifiedZohoClient`."""

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

    def post(self, path: str, json: Any = None, params: Any = None) -> dict[str, Any]: ...

    def put(self, path: str, json: Any = None, params: Any = None) -> dict[str, Any]: ...

    def request(self, method: str, path: str, *, params: Any = None,
                json: Any = None, with_organization: bool = True) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Wanted:
    """One webhook TDS wants: for `entity` and its rules' `action` (edited, deleted)."""

    entity: Entity
    action: str
    fields: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.fields["webhook_name"])


@dataclass(frozen=True)
class Step:
    """What to do about one webhook: create, update or delete (a duplicate); `differs`
    names the fields Zoho holds otherwise."""

    action: str
    name: str
    webhook_id: str | None = None
    wanted: Wanted | None = None
    differs: tuple[str, ...] = field(default=())


def wanted_webhooks(settings: Settings, base_url: str) -> list[Wanted]:
    """The webhooks TDS wants, for a receiver at `base_url` (its root, or its webhook
    path ``.../api/zoho/webhooks``)."""
    if not base_url.startswith(("https://", "http://")):
        raise TDSError(f"--url {base_url!r} is not an http(s) URL; give the receiver's "
                       "public address, e.g. https://tds.example.com.")
    root = base_url.rstrip("/").removesuffix(RECEIVER_PATH)
    wanted = []
    for entity in ENTITIES:
        if not entity.workflow_module:
            continue
        for action in ("edited", DELETED):
            query, headers = _action_marks(settings, action)
            suffix = "-deleted" if action == DELETED else ""
            rules = "Deleted" if action == DELETED else "Created or Edited"
            wanted.append(Wanted(entity, action, {
                "entity": entity.workflow_module, "webhook_name": f"tds-{entity.webhook}{suffix}",
                "description": f"TDS: {rules} {MODULE_LABELS[entity.workflow_module]}",
                "method": "POST", "url": f"{root}{RECEIVER_PATH}/{entity.webhook}",
                "query_parameters": query, "headers": headers}))
    return wanted


def existing_webhooks(client: ZohoWebhookAPI) -> list[dict[str, Any]]:
    """The webhooks Zoho has (one list call)."""
    found = client.get(PATH).get("webhooks")
    if not isinstance(found, list):
        raise TDSError("Zoho's webhook list has no 'webhooks' list; Books' webhook API may "
                       "differ from the documented pattern.")
    return [webhook for webhook in found if isinstance(webhook, dict)]


def plan(wanted: list[Wanted], existing: list[dict[str, Any]]) -> list[Step]:
    """The steps from `existing` to `wanted`."""
    steps = []
    for webhook in wanted:
        named = [found for found in existing if found.get("webhook_name") == webhook.name]
        if not named:
            steps.append(Step("create", webhook.name, wanted=webhook))
            continue
        first, *duplicates = named
        steps.append(Step("update", webhook.name, str(first.get("webhook_id")), webhook,
                          differences(webhook, first)))
        steps.extend(Step("delete", webhook.name, str(extra.get("webhook_id")))
                     for extra in duplicates)
    return steps


def differences(wanted: Wanted, found: Mapping[str, Any]) -> tuple[str, ...]:
    """The compared fields Zoho holds otherwise than TDS wants."""
    return tuple(name for name in COMPARED
                 if _normal(found.get(name)) != _normal(wanted.fields.get(name)))


def apply(client: ZohoWebhookAPI, steps: list[Step], secret: str) -> None:
    """Carry `steps` out in Zoho, each webhook with `secret`."""
    for step in steps:
        if step.action == "delete":
            client.request("DELETE", f"{PATH}/{step.webhook_id}")
            continue
        assert step.wanted is not None
        body = {**step.wanted.fields, "secret": secret}
        if step.action == "create":
            client.post(PATH, json=body)
        else:
            client.put(f"{PATH}/{step.webhook_id}", json=body)


def workflow_steps(wanted: list[Wanted]) -> list[str]:
    """What to do in Zoho's UI: a webhook fires only from a workflow rule, and whether
    rules can be made by API is unconfirmed."""
    lines = ["In Zoho Books: Settings > Automation > Workflow Rules > + New Rule, once per "
             "line (skip a rule that exists):"]
    for webhook in wanted:
        rules = "Deleted" if webhook.action == DELETED else "Created or Edited"
        lines.append(f"  Module {MODULE_LABELS[webhook.entity.workflow_module]}, rule name "
                     f"{webhook.name}, When {rules}, Execute immediately; Actions: + New "
                     f"Action > Webhooks > associate webhook {webhook.name}; Save.")
    lines.append("Price lists have no workflow module: price changes arrive by the scheduled "
                 "sync only.")
    return lines


def _action_marks(settings: Settings, action: str) -> tuple[list[dict[str, str]],
                                                             list[dict[str, str]]]:
    """Where a Deleted rule's webhook says so: the action parameter, else the header."""
    if action != DELETED:
        return [], []
    if not (settings.webhook_action_param or settings.webhook_action_header):
        raise TDSError("Set TDS_WEBHOOK_ACTION_PARAM (or TDS_WEBHOOK_ACTION_HEADER): Deleted "
                       "rules' webhooks need it to say that a record was deleted.")
    pair = [{"param_name": settings.webhook_action_param or settings.webhook_action_header,
             "param_value": DELETED}]
    return (pair, []) if settings.webhook_action_param else ([], pair)


def _normal(value: Any) -> Any:
    if isinstance(value, list):
        return sorted((sorted(item.items()) if isinstance(item, dict) else item
                       for item in value), key=repr)
    return value if value not in (None, "") else None
