"""Signature schemes at the receiver: Zoho's, Standard Webhooks, the shared token, rotation."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from tds.config import Settings
from tds.db.session import Database
from tds.signatures import sign_standard, sign_zoho, verify_standard, zoho_signed_string
from tests.fixtures.receiver import (
    PRODUCTS,
    STANDARD_SECRET,
    item,
    standard_headers,
    stored_events,
    zoho_headers,
)
from webhooks_app import create_app

SPEC_BODY = b'{"created_date":"2019-03-06","event_id":"5675"}'
VECTOR_ID, VECTOR_TIMESTAMP = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
OLD, NEW = "oldsecret0123456789", "newsecret0123456789"
TOKEN, TOKEN_PARAM = "tok_5f2a9c0e7b1d", "tds-token"


def test_zoho_worked_example_signed_string() -> None:
    pairs = [("subscription_id", "90343"), ("name", "basic")]
    assert zoho_signed_string(pairs, SPEC_BODY) == (
        b'namebasicsubscription_id90343{"created_date":"2019-03-06","event_id":"5675"}')


def test_zoho_worked_example_passes_the_receivers_check(settings: Settings,
                                                        database: Database) -> None:
    client = create_app(settings, database).test_client()
    pairs = [("subscription_id", "90343"), ("name", "basic")]
    signature = sign_zoho(settings.webhook_secrets[0], SPEC_BODY, pairs).upper()
    answer = client.post(f"{PRODUCTS}?subscription_id=90343&name=basic", data=SPEC_BODY,
                         headers={"Content-Type": "application/json",
                                  "X-Zoho-Webhook-Signature": signature})
    # Signature accepted (hex, any case); the example has no item_id, so the record is refused.
    assert answer.status_code == 400
    assert "item_id" in answer.get_json()["message"]
    answer = client.post(f"{PRODUCTS}?subscription_id=90343&name=other", data=SPEC_BODY,
                         headers={"Content-Type": "application/json",
                                  "X-Zoho-Webhook-Signature": signature})
    assert answer.status_code == 401


def test_query_pairs_take_part_in_zoho_signature(settings: Settings, database: Database) -> None:
    client = create_app(settings, database).test_client()
    body = json.dumps(item()).encode()
    pairs = [("organization_id", "10234695"), ("source", "zoho")]
    headers = {"Content-Type": "application/json",
               "X-Zoho-Webhook-Signature": sign_zoho(settings.webhook_secrets[0], body, pairs)}
    assert client.post(f"{PRODUCTS}?source=zoho&organization_id=10234695", data=body,
                       headers=headers).status_code == 202
    assert stored_events(database)[0].organization_id == "10234695"


def test_form_pairs_are_signed_decoded_with_an_empty_json_part(settings: Settings,
                                                               database: Database) -> None:
    client = create_app(settings, database).test_client()
    payload = json.dumps({"item": item(name="a & b = c")})
    body = urlencode({"JSONString": payload, "note": "x y"}).encode()
    secret = settings.webhook_secrets[0]
    good = sign_zoho(secret, b"", [("JSONString", payload), ("note", "x y")])
    raw = sign_zoho(secret, body)  # signing the encoded body is not Zoho's scheme
    form = "application/x-www-form-urlencoded"
    for signature, status in ((raw, 401), (good, 202)):
        answer = client.post(PRODUCTS, data=body, headers={
            "Content-Type": form, "X-Zoho-Webhook-Signature": signature})
        assert answer.status_code == status


def test_standard_webhooks_spec_vector() -> None:
    verify_standard([STANDARD_SECRET], VECTOR_ID, str(VECTOR_TIMESTAMP), VECTOR_SIGNATURE,
                    VECTOR_BODY, now=VECTOR_TIMESTAMP)
    assert sign_standard(STANDARD_SECRET, VECTOR_ID, VECTOR_TIMESTAMP,
                         VECTOR_BODY) == VECTOR_SIGNATURE


def test_standard_webhooks_spec_vector_at_the_receiver(settings: Settings,
                                                       database: Database) -> None:
    wide = settings.with_overrides(standard_webhook_secrets=(STANDARD_SECRET,),
                                   webhook_tolerance_seconds=10**10)
    client = create_app(wide, database).test_client()
    headers = {"Content-Type": "application/json", "webhook-id": VECTOR_ID,
               "webhook-timestamp": str(VECTOR_TIMESTAMP),
               "webhook-signature": f"v1,bm90IGl0 {VECTOR_SIGNATURE}"}
    answer = client.post(PRODUCTS, data=VECTOR_BODY, headers=headers)
    assert answer.status_code == 400  # signature fine; the vector's body has no item_id
    strict = create_app(wide.with_overrides(webhook_tolerance_seconds=300), database)
    assert strict.test_client().post(PRODUCTS, data=VECTOR_BODY,
                                     headers=headers).status_code == 401


@pytest.mark.parametrize("secret", [OLD, NEW])
def test_zoho_secrets_rotate(settings: Settings, database: Database, secret: str) -> None:
    client = create_app(settings.with_overrides(webhook_secrets=(NEW, OLD)),
                        database).test_client()
    body = json.dumps(item()).encode()
    assert client.post(PRODUCTS, data=body,
                       headers=zoho_headers(body, secret=secret)).status_code == 202
    retired = create_app(settings.with_overrides(webhook_secrets=(NEW,)), database)
    other = json.dumps(item("99")).encode()
    expected = 202 if secret == NEW else 401
    assert retired.test_client().post(PRODUCTS, data=other, headers=zoho_headers(
        other, secret=secret)).status_code == expected


def test_standard_secrets_rotate(settings: Settings, database: Database) -> None:
    second = "whsec_" + "c2Vjb25kLXNlY3JldC1mb3ItdGVzdHM="
    client = create_app(settings.with_overrides(
        standard_webhook_secrets=(second, STANDARD_SECRET)), database).test_client()
    for secret in (STANDARD_SECRET, second):
        body = json.dumps(item(name=secret)).encode()
        assert client.post(PRODUCTS, data=body, headers=standard_headers(
            body, secret=secret)).status_code == 202
    stranger = "whsec_" + "c3RyYW5nZXItc2VjcmV0LWZvci10ZXN0cw=="
    body = json.dumps(item(name="stranger")).encode()
    assert client.post(PRODUCTS, data=body, headers=standard_headers(
        body, secret=stranger)).status_code == 401


def test_standard_scheme_is_refused_when_not_configured(settings: Settings,
                                                        database: Database) -> None:
    body = json.dumps(item()).encode()
    answer = create_app(settings, database).test_client().post(
        PRODUCTS, data=body, headers=standard_headers(body))
    assert answer.status_code == 401
    assert "TDS_STANDARD_WEBHOOK_SECRET" in answer.get_json()["message"]


@pytest.fixture
def token_settings(settings: Settings) -> Settings:
    return settings.with_overrides(webhook_token=TOKEN, webhook_token_param=TOKEN_PARAM)


@pytest.mark.parametrize("where", ["query", "header"])
def test_shared_token_in_query_or_header(token_settings: Settings, database: Database,
                                         where: str) -> None:
    client = create_app(token_settings, database).test_client()
    path = f"{PRODUCTS}?{TOKEN_PARAM}={TOKEN}" if where == "query" else PRODUCTS
    headers = {TOKEN_PARAM: TOKEN} if where == "header" else {}
    assert client.post(path, json=item(), headers=headers).status_code == 202
    [event] = stored_events(database)
    assert event.signature_scheme == "token"
    assert TOKEN_PARAM not in event.headers
    assert TOKEN not in json.dumps(event.headers)
    wrong = client.post(f"{PRODUCTS}?{TOKEN_PARAM}=nope", json=item("2"))
    assert wrong.status_code == 401


def test_shared_token_is_off_unless_configured(settings: Settings, database: Database) -> None:
    client = create_app(settings, database).test_client()
    assert client.post(f"{PRODUCTS}?{TOKEN_PARAM}={TOKEN}", json=item()).status_code == 401


def test_token_and_zoho_signature_together(token_settings: Settings, database: Database) -> None:
    client = create_app(token_settings, database).test_client()
    body = json.dumps(item()).encode()
    secret = token_settings.webhook_secrets[0]
    signed = sign_zoho(secret, body, [(TOKEN_PARAM, TOKEN)])
    unsigned_param = sign_zoho(secret, body)
    path = f"{PRODUCTS}?{TOKEN_PARAM}={TOKEN}"
    content = {"Content-Type": "application/json"}
    assert client.post(path, data=body, headers={
        **content, "X-Zoho-Webhook-Signature": unsigned_param}).status_code == 401
    assert client.post(path, data=body, headers={
        **content, "X-Zoho-Webhook-Signature": signed}).status_code == 202
    assert stored_events(database)[0].signature_scheme == "zoho"


def test_the_sandbox_emitter_is_accepted(settings: Settings, database: Database) -> None:
    from tds.sandbox.config import SandboxConfig
    from tds.sandbox.webhooks import build_delivery

    client = create_app(settings, database).test_client()
    for fmt, item_id in (("json", "1001"), ("form", "1002")):
        config = SandboxConfig(webhook_url="http://localhost/api/zoho/webhooks",
                               webhook_secret=settings.webhook_secrets[0], webhook_format=fmt)
        delivery = build_delivery(config, "items", item(item_id))
        assert delivery is not None
        answer = client.post(delivery.url.removeprefix("http://localhost"), data=delivery.body,
                             headers=delivery.headers)
        assert answer.status_code == 202, answer.get_json()
    assert [event.zoho_id for event in stored_events(database)] == ["1001", "1002"]
