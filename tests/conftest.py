"""The test suite's shared fixtures, each module of `tests/fixtures/` a plugin.

Tests run on the real SQLite, Postgres and Redis (`tests.fixtures.services`),
the sandbox over HTTP (`sandbox`), the Zoho client (`zoho`), the receiver
(`receiver`), the consumer API (`consumer`) and a whole stack with a real Celery
worker (`stack`).
"""

pytest_plugins = (
    "tests.fixtures.services",
    "tests.fixtures.sandbox",
    "tests.fixtures.zoho",
    "tests.fixtures.receiver",
    "tests.fixtures.consumer",
    "tests.fixtures.stack",
    "tests.fixtures.private",
)
