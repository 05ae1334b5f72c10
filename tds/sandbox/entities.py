"""One declarative description per simulated Zoho entity.

The routes, the store, the generator and the webhook emitter all read
these specs, so adding an entity is one entry here plus its generator.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    default_order: str = "A"
    default_per_page: int = 10
    detail_only: tuple[str, ...] = ()  # fields only the single-record answer shows
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
        "detail_only": ("line_items",),
    }
    fields.update(rest)
    return SimulatedEntity(name=name, **fields)  # type: ignore[arg-type]


SPECS: dict[str, SimulatedEntity] = {
    spec.name: spec
    for spec in (
        _spec("items", "item", "Item", created_message="The item has been added.",
              updated_message="The item details have been saved.", required=("name",),
              default_sort="name", detail_only=(), webhook_entity="products"),
        _spec("contacts", "contact", "Contact", created_message="The contact has been added.",
              updated_message="Contact has been updated.", required=("contact_name",),
              default_sort="contact_name", detail_only=(), webhook_entity="customers"),
        _spec("invoices", "invoice", "Invoice", required=("customer_id",),
              default_sort="created_time", default_order="D", webhook_entity="invoices"),
        _spec("bills", "bill", "Bill", required=("vendor_id",), default_sort="created_time",
              default_order="D", webhook_entity="bills"),
        _spec("creditnotes", "creditnote", "Credit Note", required=("customer_id",),
              default_sort="created_time", default_order="D", webhook_entity="credit-notes"),
        _spec("salesorders", "salesorder", "Sales Order",
              created_message="Sales Order Created Successfully.",
              updated_message="Sales Order has been updated.",
              deleted_message="Sales Order has been deleted.", required=("customer_id",),
              default_sort="created_time", default_order="D"),
        _spec("pricebooks", "pricebook", "Price List", required=("name",),
              created_message="The price list has been created.", default_sort="name",
              default_per_page=200, detail_only=(), webhook_entity="prices"),
        _spec("inventory_adjustments", "inventory_adjustment", "Inventory Adjustment",
              created_message="Inventory Adjustment has been added.", required=("line_items",),
              default_sort="created_time", default_order="D", detail_only=(),
              webhook_entity="stock", api="inventory", path="inventoryadjustments"),
    )
}

MAX_PER_PAGE = 200
