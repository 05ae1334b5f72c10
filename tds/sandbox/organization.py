"""The one organization the sandbox serves, shaped like ``GET /organizations``."""

from __future__ import annotations

from typing import Any

from tds.sandbox.clock import ORG_TIME_ZONE_NAME
from tds.sandbox.config import SandboxConfig
from tds.sandbox.data import CURRENCY_ID


def organization(config: SandboxConfig) -> dict[str, Any]:
    """The organization record for ``config.organization_id``."""
    return {
        "organization_id": config.organization_id, "name": "TDS Sandbox Ltd",
        "contact_name": "Sandbox Admin", "email": "admin@sandbox.example.com",
        "is_default_org": True, "plan_type": 0, "plan_name": "Premium", "plan_period": "yearly",
        "language_code": "en", "fiscal_year_start_month": 0,
        "account_created_date": "2023-01-01", "account_created_date_formatted": "2023-01-01",
        "time_zone": ORG_TIME_ZONE_NAME, "is_org_active": True, "currency_id": CURRENCY_ID,
        "currency_code": "USD", "currency_symbol": "$", "currency_format": "###,##0.00",
        "price_precision": 2, "date_format": "yyyy-MM-dd", "field_separator": "-",
        "user_role": "admin", "version": "global", "is_inventory_enabled": True,
    }
