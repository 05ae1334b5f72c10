"""A page of Zoho documents that keeps the JSON text it was decoded from."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class SourcePage(list[dict[str, Any]]):
    """Documents decoded from `text`, whose `list_key` member is the list they
    came from, in order.

    A bulk writer on Postgres lets the database read each stored document out
    of the text by its position instead of encoding the document again (see
    :func:`tds.db.values_upsert.upsert_page`). Everywhere else it is a list.
    """

    def __init__(self, documents: Iterable[dict[str, Any]], text: str, list_key: str) -> None:
        super().__init__(documents)
        self.text = text
        self.list_key = list_key
