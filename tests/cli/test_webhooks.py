"""`tds webhooks register|list` against the sandbox's webhook settings API."""

from __future__ import annotations

from collections import Counter
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import select

from tds.cli import main
from tds.config import Settings
from tds.db.models import WebhookSecret
from tds.db.session import Database
from tds.sandbox import SandboxServer

URL = "https://tds.example.com"
ENTITIES = {"products", "customers", "invoices", "bills", "credit-notes", "stock"}


def run(settings: Settings, *args: str) -> Result:
    result = CliRunner().invoke(main, ["webhooks", *args], obj=settings)
    assert result.exit_code == 0, result.output
    return result


def registered(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return sandbox.state.webhooks.all()


def test_register_twice_leaves_one_webhook_per_entity_and_rule(
        zoho_settings: Settings, database: Database, sandbox: SandboxServer) -> None:
    first = run(zoho_settings, "register", "--url", URL)
    second = run(zoho_settings, "register", "--url", f"{URL}/api/zoho/webhooks/")
    hooks = registered(sandbox)
    names = Counter(hook["webhook_name"] for hook in hooks)
    assert set(names) == {f"tds-{entity}{suffix}" for entity in ENTITIES
                          for suffix in ("", "-deleted")}
    assert set(names.values()) == {1}
    by_name = {hook["webhook_name"]: hook for hook in hooks}
    changed, deleted = by_name["tds-credit-notes"], by_name["tds-credit-notes-deleted"]
    assert (changed["entity"], changed["method"], changed["url"]) == (
        "creditnote", "POST", f"{URL}/api/zoho/webhooks/credit-notes")
    assert (changed["query_parameters"], deleted["query_parameters"]) == (
        [], [{"param_name": "event", "param_value": "deleted"}])
    assert by_name["tds-stock"]["entity"] == "inventory_adjustment"
    with database.session() as session:
        secrets = list(session.scalars(select(WebhookSecret.secret)))
    assert len(secrets) == 1  # the second run gave the same secret again
    assert {hook["secret"] for hook in hooks} == set(secrets)
    assert f"TDS_WEBHOOK_SECRET={secrets[0]},testsecret0123456789" in first.output
    assert "create tds-products" in first.output
    assert "update tds-products" in second.output
    assert "Module Credit Notes, rule name tds-credit-notes-deleted, When Deleted" \
        in second.output
    assert "Price lists have no workflow module" in second.output


def test_a_dry_run_changes_nothing(zoho_settings: Settings, database: Database,
                                   sandbox: SandboxServer) -> None:
    result = run(zoho_settings, "register", "--url", URL, "--dry-run")
    assert "create tds-invoices-deleted" in result.output
    assert "(dry run: nothing was changed)" in result.output
    assert registered(sandbox) == []
    with database.session() as session:
        assert session.scalars(select(WebhookSecret)).all() == []


def test_duplicates_go_and_drifted_webhooks_are_put_right(
        zoho_settings: Settings, database: Database, sandbox: SandboxServer) -> None:
    run(zoho_settings, "register", "--url", URL)
    book = sandbox.state.webhooks
    bills = next(hook for hook in book.all() if hook["webhook_name"] == "tds-bills")
    book.update(bills["webhook_id"], {**bills, "url": "https://old.example.com/x"})
    book.create({key: value for key, value in bills.items() if key != "webhook_id"})
    book.create({"entity": "invoice", "webhook_name": "someone-elses", "method": "POST",
                 "url": "https://elsewhere.example.com"})
    listed = run(zoho_settings, "list", "--url", URL).output
    assert "tds-bills\tbill\tPOST https://old.example.com/x\tdiffers: url" in listed
    assert "someone-elses" in listed
    assert "not TDS's" in listed
    plan = run(zoho_settings, "register", "--url", URL, "--dry-run").output
    assert "differs: url" in plan
    assert "a second webhook of the same name" in plan
    run(zoho_settings, "register", "--url", URL)
    names = Counter(hook["webhook_name"] for hook in book.all())
    assert (names["tds-bills"], names["someone-elses"]) == (1, 1)
    listed = run(zoho_settings, "list", "--url", URL).output
    assert "differs" not in listed
    assert listed.count("matches") == 12


def test_a_rotated_secret_reaches_every_webhook(zoho_settings: Settings, database: Database,
                                                sandbox: SandboxServer) -> None:
    run(zoho_settings, "register", "--url", URL)
    result = run(zoho_settings, "register", "--url", URL, "--rotate-secret")
    with database.session() as session:
        newest = session.scalars(select(WebhookSecret.secret).order_by(
            WebhookSecret.id.desc())).first()
    assert {hook["secret"] for hook in registered(sandbox)} == {newest}
    assert f"TDS_WEBHOOK_SECRET={newest}," in result.output
    accepted = zoho_settings.with_overrides(webhook_secrets=(str(newest),))
    assert "already accepts" in run(accepted, "register", "--url", URL).output


def test_list_without_webhooks_and_a_bad_url(zoho_settings: Settings, database: Database,
                                             sandbox: SandboxServer) -> None:
    assert "Zoho has no webhooks." in run(zoho_settings, "list").output
    missing = run(zoho_settings, "list", "--url", URL).output
    assert missing.count("missing: run `tds webhooks register") == 12
    bad = CliRunner().invoke(main, ["webhooks", "register", "--url", "tds.example.com"],
                             obj=zoho_settings)
    assert bad.exit_code == 1
    assert "not an http(s) URL" in bad.output
