"""API keys: which header, several keys at once, constant-time compare, never logged."""

from __future__ import annotations

import logging

import pytest

from tests.fixtures.consumer import ConsumerFactory
from tests.fixtures.receiver import post_zoho, unique_item

ROUTES = [("GET", "/consumer/orders"), ("GET", "/consumer/orders/1"),
          ("POST", "/consumer/orders"), ("POST", "/consumer/sync/inventory"),
          ("GET", "/consumer/sync/status"), ("GET", "/consumer/credentials")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("headers", [
    {}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"},
    {"Authorization": "Basic dGRzX3Rlc3Rfa2V5Og=="}, {"X-API-Key": ""},
    {"Authorization": "Bearer"}, {"X-API-Key": "tds_test_key "},
])
def test_without_a_valid_key_every_route_is_401(consumer_factory: ConsumerFactory, method: str,
                                                path: str, headers: dict[str, str]) -> None:
    client = consumer_factory().client
    answer = client.open(path, method=method, headers=headers, json={})
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"
    assert "X-API-Key" in answer.get_json()["message"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_either_header_and_every_configured_key_is_accepted(
        consumer_factory: ConsumerFactory) -> None:
    client = consumer_factory(api_keys=("old-key-1", "new-key-2")).client
    for headers in ({"X-API-Key": "old-key-1"}, {"X-API-Key": "new-key-2"},
                    {"Authorization": "Bearer new-key-2"}, {"Authorization": "bearer old-key-1"}):
        assert client.get("/consumer/orders", headers=headers).status_code == 200, headers


def test_no_key_configured_lets_nobody_in(consumer_factory: ConsumerFactory) -> None:
    client = consumer_factory(api_keys=()).client
    assert client.get("/consumer/orders", headers={"X-API-Key": ""}).status_code == 401


def test_the_document_is_public(consumer_factory: ConsumerFactory) -> None:
    answer = consumer_factory().client.get("/consumer/openapi.json")
    assert answer.status_code == 200
    assert answer.get_json()["openapi"] == "3.1.0"


def test_keys_are_never_logged(consumer_factory: ConsumerFactory,
                               caplog: pytest.LogCaptureFixture) -> None:
    consumer = consumer_factory(api_keys=("secret-key-abc",))
    with caplog.at_level(logging.DEBUG):
        consumer.client.post("/consumer/orders", json={"bad": 1},
                             headers={"X-API-Key": "secret-key-abc"})
        consumer.client.post("/consumer/orders", json={},
                             headers={"X-API-Key": "guessed-key-xyz"})
    logged = "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    assert "secret-key-abc" not in logged
    assert "guessed-key-xyz" not in logged


def test_webhooks_keep_their_signature_auth(consumer_factory: ConsumerFactory) -> None:
    client = consumer_factory().client
    assert post_zoho(client, unique_item()).status_code == 202  # signed, no API key
    unsigned = client.post("/api/zoho/webhooks/products", json=unique_item(),
                           headers={"X-API-Key": "tds_test_key"})
    assert unsigned.status_code == 401
