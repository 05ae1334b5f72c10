"""A corpus of hostile inputs: never a 5xx, and nothing stored unless the event is valid."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient

from tds.db.session import Database
from tests.fixtures.receiver import (
    PRODUCTS,
    item,
    standard_headers,
    stored_events,
    zoho_headers,
)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
SQL = "'; DROP TABLE tds_inbox_events; --"
SCRIPT = "<script>alert(document.cookie)</script>"
Headers = dict[str, str]


def zoho(body: bytes, content_type: str = JSON) -> Headers:
    return zoho_headers(body, content_type=content_type)


def form_signed(body: bytes) -> Headers:
    # Sign the pairs as Zoho would if they parse; malformed forms never reach the check.
    from urllib.parse import parse_qsl

    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        pairs = []
    return zoho_headers(b"", pairs=pairs, content_type=FORM)


@dataclass(frozen=True)
class Case:
    """One hostile request and what must come of it."""

    name: str
    body: bytes
    status: int
    sign: Callable[[bytes], Headers] = zoho
    stored: int = 0
    query: str = ""
    headers: Headers = field(default_factory=dict)
    environ: dict[str, object] = field(default_factory=dict)
    method: str = "POST"


def doc(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def record(**fields: Any) -> bytes:
    return json.dumps({"item": item(**fields)}).encode()


def nested(depth: int) -> bytes:
    return b'{"item_id": "1", "x": ' + b"[" * depth + b"]" * depth + b"}"


STALE = int(time.time()) - 3600
CASES = [
    Case("truncated json", record()[:-7], 400),
    Case("deep array nesting 10k", b"[" * 10_000 + b"]" * 10_000, 400),
    Case("deep object nesting 10k", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, 400),
    Case("nesting past the limit", nested(100), 400),
    Case("float 1e400", b'{"item_id": "1", "rate": 1e400}', 400),
    Case("float -1e400", b'{"item_id": "1", "rate": -1e400}', 400),
    Case("integer of 5000 digits", b'{"item_id": "1", "rate": ' + b"9" * 5000 + b"}", 400),
    Case("NaN", b'{"item_id": "1", "rate": NaN}', 400),
    Case("Infinity", b'{"item_id": "1", "rate": Infinity}', 400),
    Case("invalid utf-8", b'{"item_id": "1", "name": "\xff\xfe"}', 400),
    Case("overlong slash", b'{"item_id": "1", "name": "\xc0\xaf"}', 400),
    Case("overlong NUL", b'{"item_id": "1", "name": "\xc0\x80"}', 400),
    Case("raw NUL byte", b'{"item_id": "1", "name": "a\x00b"}', 400),
    Case("escaped NUL", b'{"item_id": "1", "name": "a\\u0000b"}', 400),
    Case("NUL in a key", b'{"item_id": "1", "a\\u0000": 1}', 400),
    Case("lone surrogate", b'{"item_id": "1", "name": "\\ud800"}', 400),
    Case("utf-8 BOM", b"\xef\xbb\xbf" + doc(item_id="1"), 202, stored=1),
    Case("duplicate keys", b'{"item_id": "1", "item_id": "2"}', 400),
    Case("duplicate nested keys", b'{"item": {"item_id": "1", "name": "a", "name": "b"}}', 400),
    Case("empty body", b"", 400),
    Case("whitespace body", b"  \n ", 400),
    Case("array of one record", b'[{"item_id": "1"}]', 202, stored=1),
    Case("array of two records", b'[{"item_id": "1"}, {"item_id": "2"}]', 400),
    Case("a string", b'"item_id"', 400),
    Case("null", b"null", 400),
    Case("a number", b"42", 400),
    Case("id is an object", doc(item_id={"$gt": ""}), 400),
    Case("id is a list", doc(item_id=["1"]), 400),
    Case("id is a boolean", doc(item_id=True), 400),
    Case("id is null", doc(item_id=None), 400),
    Case("id is empty", doc(item_id=""), 400),
    Case("id is negative", doc(item_id=-5), 400),
    Case("id is a float", doc(item_id=1.5), 400),
    Case("id is 65 digits", doc(item_id="1" * 65), 400),
    Case("id holds SQL", doc(item_id="1 OR 1=1"), 400),
    Case("missing id", doc(name="no id"), 400),
    Case("wrapper is a list of one", doc(item=[{"item_id": "1"}]), 202, stored=1),
    Case("wrapper is a list of two", doc(item=[{"item_id": "1"}, {"item_id": "2"}]), 400),
    Case("wrapper is a string", doc(item="1"), 400),
    # What cannot be read beyond the id is fetched from Zoho, never refused.
    Case("modified time is a number", record(item_id="711", last_modified_time=1700000000),
         202, stored=1),
    Case("modified time is garbage", record(item_id="712", last_modified_time="yesterday"),
         202, stored=1),
    Case("modified time in display format", record(
        item_id="713", last_modified_time="18 Nov 2023, 02:02 AM"), 202, stored=1),
    Case("amount with thousands separators", record(item_id="714", rate="1,234.50"), 202,
         stored=1),
    Case("a wrapper nobody documented", doc(data={"item": item(item_id="715")}), 202,
         stored=1),
    Case("modified time before year 1 in UTC", record(
        last_modified_time="0001-01-01T00:00:00+01:00"), 400),
    Case("modified time after year 9999 in UTC", record(
        last_modified_time="9999-12-31T23:59:59-01:00"), 400),
    Case("SQL text in a field", record(item_id="701", name=SQL), 202, stored=1),
    Case("script text in a field", record(item_id="702", description=SCRIPT), 202, stored=1),
    Case("signature for another body", record(),
         401, sign=lambda body: zoho(record(item_id="999"))),
    Case("signature with another secret", record(),
         401, sign=lambda body: zoho_headers(body, secret="notoursecret123456")),
    Case("empty signature", record(), 401,
         sign=lambda body: {"Content-Type": JSON, "X-Zoho-Webhook-Signature": ""}),
    Case("signature not hex", record(), 401,
         sign=lambda body: {"Content-Type": JSON, "X-Zoho-Webhook-Signature": "zz" * 32}),
    Case("no signature", record(), 401, sign=lambda body: {"Content-Type": JSON}),
    Case("standard timestamp too old", record(), 401,
         sign=lambda body: standard_headers(body, timestamp=STALE)),
    Case("standard timestamp in the future", record(), 401,
         sign=lambda body: standard_headers(body, timestamp=int(time.time()) + 3600)),
    Case("standard timestamp not a number", record(), 401,
         sign=lambda body: {**standard_headers(body), "webhook-timestamp": "soon"}),
    Case("standard signature for another body", record(), 401,
         sign=lambda body: standard_headers(record(item_id="998"))),
    Case("standard without a signature", record(), 401,
         sign=lambda body: {"Content-Type": JSON, "webhook-id": "msg_x"}),
    # JSON is read as JSON whatever its label.
    Case("JSON labelled text/plain", record(item_id="721"), 202, stored=1,
         sign=lambda body: zoho(body, "text/plain")),
    Case("JSON without a content type", record(item_id="722"), 202, stored=1,
         sign=lambda body: zoho(body, "")),
    Case("JSON labelled form-encoded", record(item_id="723"), 202, stored=1,
         sign=lambda body: zoho(body, FORM)),
    Case("text that is not JSON", b"item_id=1 please", 415,
         sign=lambda body: zoho(body, "text/plain")),
    Case("xml", b"<item><item_id>1</item_id></item>", 415,
         sign=lambda body: zoho(body, "application/xml")),
    Case("multipart", b"--x\r\nContent-Disposition: form-data\r\n\r\n1\r\n--x--", 415,
         sign=lambda body: zoho(body, "multipart/form-data; boundary=x")),
    Case("form JSONString truncated", b"JSONString=%7B%22item_id%22", 400, sign=form_signed),
    Case("form JSONString invalid utf-8", b"JSONString=%FF%FE", 400, sign=form_signed),
    Case("form with a NUL", b"JSONString=%7B%22item_id%22%3A%221%22%7D&n=%00", 400,
         sign=form_signed),
    Case("form field repeated", b"JSONString=%7B%7D&JSONString=%7B%7D", 400, sign=form_signed),
    Case("form JSONString is an array", b"JSONString=%5B%5D", 400, sign=form_signed),
    Case("form not key=value", b"%%%", 400, sign=form_signed),
    Case("query not utf-8", record(), 400, query="a=%FF"),
    Case("organization id injection", record(), 400, query="organization_id=1%27%3B--",
         sign=lambda body: zoho_headers(body, pairs=[("organization_id", "1';--")])),
    Case("correlation header injection", record(item_id="703"), 202, stored=1,
         environ={"HTTP_X_CORRELATION_ID": "a\r\nSet-Cookie: pwned=1"}),
    Case("huge header without signature", record(), 401, sign=lambda body: {
        "Content-Type": JSON, "X-Filler": "x" * 200_000}),
    Case("huge header with a valid signature", record(item_id="704"), 202, stored=1,
         headers={"X-Filler": "x" * 200_000}),
    Case("control characters in a header", record(item_id="705"), 202, stored=1,
         environ={"HTTP_X_NOTE": "a\x00b\x1bc"}),
    Case("unknown entity path", record(), 404, method="POST /api/zoho/webhooks/..%2fadmin"),
    Case("GET", b"", 405, method="GET"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input(receiver: FlaskClient, database: Database, case: Case) -> None:
    method, _, path = case.method.partition(" ")
    path = (path or PRODUCTS) + (f"?{case.query}" if case.query else "")
    answer = receiver.open(path, method=method, data=case.body,
                         headers={**case.sign(case.body), **case.headers},
                         environ_overrides=case.environ)
    assert answer.status_code == case.status, answer.get_data()[:300]
    assert answer.is_json
    assert answer.get_json()["message"]
    assert "Set-Cookie" not in answer.headers
    stored = stored_events(database)
    assert len(stored) == case.stored
    if case.stored:
        assert json.loads(stored[0].raw_body) == json.loads(case.body)
        assert all(len(value) <= 1024 and value.isprintable()
                   for value in stored[0].headers.values())


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


def test_sql_and_script_text_are_stored_verbatim(receiver: FlaskClient, database: Database) -> None:
    body = record(item_id="801", name=SQL, description=SCRIPT)
    assert receiver.post(PRODUCTS, data=body, headers=zoho(body)).status_code == 202
    [event] = stored_events(database)
    assert (event.payload["name"], event.payload["description"]) == (SQL, SCRIPT)


@pytest.mark.parametrize("scheme", ["zoho", "standard"])
def test_a_replayed_event_is_stored_once(receiver: FlaskClient, database: Database,
                                         scheme: str) -> None:
    body = record(item_id="802")
    headers = zoho(body) if scheme == "zoho" else standard_headers(body)
    statuses = [receiver.post(PRODUCTS, data=body, headers=headers).status_code for _ in range(3)]
    assert statuses == [202, 200, 200]
    assert len(stored_events(database)) == 1
