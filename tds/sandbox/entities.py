"""One declarative description per simulated Zoho entity.

The routes, the store, the generator and the webhook emitter all read
these specs, so adding an entity is one entry here plus its generator.

``list_fields`` are the keys a list row may carry: the properties of the
list schema in Zoho's OpenAPI document for the entity (``zoho-openapi/``;
for inventory adjustments, Zoho Inventory's), plus ``created_time`` and
``last_modified_time``. Real list rows are summaries: everything else
(``line_items``, ``locations``, addresses, ``contact_persons``,
``pricebook_items``) only a single GET shows.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PER_PAGE = 200  # what real answers hold when per_page is omitted
MAX_PER_PAGE = 200
STAMPS = ("created_time", "last_modified_time")


@dataclass(frozen=True)
class SimulatedEntity:
    """How Zoho names, pages, filters and answers for one entity."""

    name: str  # URL segment under the API prefix and the store's table name
    list_key: str
    single_key: str
    id_field: str
    label: str  # as Zoho writes it in messages: "Invoice does not exist."
    created_message: str
    updated_message: str
    deleted_message: str
    required: tuple[str, ...]  # fields a create must carry
    default_sort: str
    list_fields: tuple[str, ...]
    default_order: str = "A"
    # Lists answer active records only unless filter_by says otherwise (items, contacts).
    status_filter: bool = False
    # Answers of POST .../{id}/active and .../{id}/inactive; None: no such routes.
    marked_messages: tuple[str, str] | None = None
    single_get: bool = True  # False: Zoho documents no GET of one record
    # Creates get "<prefix>00001"-style numbers in this field (Zoho's auto-numbering).
    number_field: str = ""
    number_prefix: str = ""
    webhook_entity: str | None = None  # the receiver's path segment
    api: str = "books"  # "books" (/books/v3) or "inventory" (/inventory/v1)
    path: str = ""  # URL segment when it differs from ``name``

    @property
    def url_segment(self) -> str:
        return self.path or self.name


def _spec(name: str, single: str, label: str, **rest: object) -> SimulatedEntity:
    lower = label.lower()
    fields: dict[str, object] = {
        "list_key": name, "single_key": single, "id_field": f"{single}_id", "label": label,
        "created_message": f"The {lower} has been created.",
        "updated_message": f"{label} information has been updated.",
        "deleted_message": f"The {lower} has been deleted.",
    }
    fields.update(rest)
    return SimulatedEntity(name=name, **fields)  # type: ignore[arg-type]


ITEM_LIST = (
    "item_id", "name", "status", "description", "rate", "unit", "tax_id", "tax_name",
    "tax_percentage", "tax_type", "purchase_tax_rule_id", "sales_tax_rule_id", "sku",
    "product_type", "sat_item_key_code", "unitkey_code", "custom_fields", *STAMPS,
    # Real item rows carry stock when inventory is on (the sheet); the schema omits it.
    "item_type", "purchase_rate", "stock_on_hand", "available_stock", "actual_available_stock",
)
CONTACT_LIST = (
    "contact_id", "contact_name", "company_name", "contact_type", "status", "payment_terms",
    "payment_terms_label", "currency_id", "currency_code", "outstanding_receivable_amount",
    "unused_credits_receivable_amount", "first_name", "last_name", "email", "phone", "mobile",
    *STAMPS,
)
INVOICE_LIST = (
    "invoice_id", "invoice_number", "ach_payment_initiated", "status", "customer_id",
    "customer_name", "date", "due_date", "due_days", "payment_expected_date",
    "last_payment_date", "reference_number", "currency_id", "currency_code", "exchange_rate",
    "total", "balance", "adjustment", "write_off_amount", "shipping_charge", "is_emailed",
    "is_viewed_by_client", "client_viewed_time", "has_attachment", "reminders_sent",
    "last_reminder_sent_date", "schedule_time", "location_id", "location_name",
    "salesperson_id", "salesperson_name", "custom_fields", "documents", "tags", *STAMPS,
)
BILL_LIST = (
    "bill_id", "bill_number", "vendor_id", "vendor_name", "status", "date", "due_date",
    "due_days", "reference_number", "currency_id", "currency_code", "exchange_rate",
    "price_precision", "total", "balance", "has_attachment", "attachment_name",
    "is_abn_quoted", "is_tds_applied", "location_id", "location_name", *STAMPS,
)
CREDITNOTE_LIST = (
    "creditnote_id", "creditnote_number", "status", "customer_id", "customer_name", "date",
    "reference_number", "currency_id", "currency_code", "total", "balance", "is_emailed",
    "location_id", "location_name", *STAMPS,
)
SALESORDER_LIST = (
    "salesorder_id", "salesorder_number", "status", "customer_id", "customer_name", "date",
    "shipment_date", "shipment_days", "reference_number", "currency_id", "currency_code",
    "sub_total", "total", "bcy_total", "is_emailed", "has_attachment", "custom_fields",
    "zcrm_potential_id", "zcrm_potential_name", *STAMPS,
)
# The schema lists pricebook_items too, but items are read through /pricebooks/items only.
PRICEBOOK_LIST = (
    "pricebook_id", "name", "description", "currency_id", "currency_code", "decimal_place",
    "is_default", "is_increase", "percentage", "pricebook_type", "pricing_scheme",
    "rounding_type", "sales_or_purchase_type", "status", *STAMPS,
)
ADJUSTMENT_LIST = (
    "inventory_adjustment_id", "date", "reason", "reason_id", "description",
    "reference_number", "adjustment_type", "total", "custom_fields", *STAMPS,
)

def _marked(noun: str, joiner: str = "as ") -> tuple[str, str]:
    return (f"The {noun} has been marked {joiner}active.",
            f"The {noun} has been marked {joiner}inactive.")


SPECS: dict[str, SimulatedEntity] = {
    spec.name: spec
    for spec in (
        _spec("items", "item", "Item", created_message="The item has been added.",
              updated_message="The item details have been saved.", required=("name",),
              default_sort="name", list_fields=ITEM_LIST, status_filter=True,
              marked_messages=_marked("item"), webhook_entity="products"),
        _spec("contacts", "contact", "Contact", created_message="The contact has been added.",
              updated_message="Contact has been updated.", required=("contact_name",),
              default_sort="contact_name", list_fields=CONTACT_LIST, status_filter=True,
              marked_messages=_marked("contact"), webhook_entity="customers"),
        _spec("invoices", "invoice", "Invoice", required=("customer_id",),
              default_sort="created_time", default_order="D", list_fields=INVOICE_LIST,
              webhook_entity="invoices"),
        _spec("bills", "bill", "Bill", required=("vendor_id",), default_sort="created_time",
              default_order="D", list_fields=BILL_LIST, webhook_entity="bills"),
        _spec("creditnotes", "creditnote", "Credit Note", required=("customer_id",),
              default_sort="created_time", default_order="D", list_fields=CREDITNOTE_LIST,
              webhook_entity="credit-notes"),
        _spec("salesorders", "salesorder", "Sales Order",
              created_message="Sales Order Created Successfully.",
              updated_message="Sales Order has been updated.",
              deleted_message="Sales Order has been deleted.", required=("customer_id",),
              default_sort="created_time", default_order="D", list_fields=SALESORDER_LIST,
              number_field="salesorder_number", number_prefix="SO-"),
        _spec("pricebooks", "pricebook", "Price List", required=("name",),
              created_message="The price list has been created.", default_sort="name",
              list_fields=PRICEBOOK_LIST, marked_messages=_marked("price list", ""),
              single_get=False, webhook_entity="prices"),
        _spec("inventory_adjustments", "inventory_adjustment", "Inventory Adjustment",
              created_message="Inventory Adjustment has been added.", required=("line_items",),
              default_sort="created_time", default_order="D", list_fields=ADJUSTMENT_LIST,
              webhook_entity="stock", api="inventory", path="inventoryadjustments"),
    )
}
