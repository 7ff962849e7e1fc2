"""The database schema, as an ordered list of migrations tracked by PRAGMA user_version.

Each migration brings the schema from version N-1 to N and runs in its own transaction
together with the user_version bump, so a crash or an error mid-upgrade leaves the file at the
last complete version and the next start simply carries on. Later issues add migrations at the
end of `MIGRATIONS`; a released migration is never edited.

Columns named after DSCO fields hold what DSCO said (its ISO timestamps normalised to UTC so
they compare as text); `raw` keeps the whole object as DSCO sent it, unknown fields included;
`local_*` columns are the app's own state and are never overwritten by a pull from DSCO.
State columns are plain TEXT without CHECK constraints so later issues can add states without
rebuilding tables.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One schema step: `statements` run in order, in one transaction, then user_version=version."""

    version: int
    description: str
    statements: tuple[str, ...]


_V1 = (
    # Catalog: the fields of DSCO's ItemCatalog the app shows and edits get columns; the rest
    # lives in raw. images/categories/attributes/extended_attributes are JSON.
    """
    CREATE TABLE items (
        sku TEXT PRIMARY KEY NOT NULL,
        dsco_item_id TEXT,
        title TEXT,
        upc TEXT,
        ean TEXT,
        gtin TEXT,
        mpn TEXT,
        isbn TEXT,
        brand TEXT,
        description TEXT,
        product_status TEXT,
        product_group TEXT,
        cost REAL,
        msrp REAL,
        map REAL,
        currency_code TEXT,
        color TEXT,
        size TEXT,
        weight REAL,
        weight_units TEXT,
        category TEXT,
        images TEXT NOT NULL DEFAULT '[]',
        categories TEXT NOT NULL DEFAULT '{}',
        attributes TEXT NOT NULL DEFAULT '[]',
        extended_attributes TEXT NOT NULL DEFAULT '{}',
        raw TEXT NOT NULL DEFAULT '{}',
        dsco_last_update TEXT,
        local_state TEXT NOT NULL DEFAULT 'new',
        local_updated_at TEXT NOT NULL,
        dsco_state TEXT NOT NULL DEFAULT 'unknown',
        dsco_message TEXT,
        dsco_request_id TEXT,
        dsco_pushed_at TEXT
    )
    """,
    "CREATE INDEX items_title ON items(title COLLATE NOCASE)",
    "CREATE INDEX items_upc ON items(upc)",
    "CREATE INDEX items_brand ON items(brand COLLATE NOCASE)",
    "CREATE INDEX items_product_status ON items(product_status)",
    "CREATE INDEX items_local_state ON items(local_state)",
    "CREATE INDEX items_dsco_state ON items(dsco_state)",
    # Inventory per warehouse. No foreign key to items: DSCO may report stock for SKUs the
    # local catalog has not imported yet.
    """
    CREATE TABLE inventory (
        sku TEXT NOT NULL,
        warehouse_code TEXT NOT NULL,
        quantity INTEGER NOT NULL DEFAULT 0,
        buffer INTEGER NOT NULL DEFAULT 0,
        dsco_status TEXT,
        dsco_quantity INTEGER,
        last_confirmed_at TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (sku, warehouse_code)
    )
    """,
    "CREATE INDEX inventory_warehouse ON inventory(warehouse_code)",
    "CREATE INDEX inventory_dsco_status ON inventory(dsco_status)",
    """
    CREATE TABLE orders (
        dsco_order_id TEXT PRIMARY KEY NOT NULL,
        po_number TEXT,
        consumer_order_number TEXT,
        supplier_order_number TEXT,
        channel TEXT,
        retailer_id TEXT,
        trading_partner_id TEXT,
        trading_partner_name TEXT,
        order_type TEXT,
        lifecycle TEXT,
        dsco_status TEXT,
        test_flag INTEGER NOT NULL DEFAULT 0,
        retailer_create_date TEXT,
        dsco_create_date TEXT,
        ship_by_date TEXT,
        acknowledge_by_date TEXT,
        cancel_after_date TEXT,
        dsco_last_update TEXT,
        ship_carrier TEXT,
        ship_method TEXT,
        shipping_service_level_code TEXT,
        ship_to TEXT NOT NULL DEFAULT '{}',
        raw TEXT NOT NULL DEFAULT '{}',
        local_state TEXT NOT NULL DEFAULT 'new',
        local_note TEXT,
        received_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX orders_po_number ON orders(po_number)",
    "CREATE INDEX orders_lifecycle ON orders(lifecycle)",
    "CREATE INDEX orders_ship_by ON orders(ship_by_date)",
    "CREATE INDEX orders_last_update ON orders(dsco_last_update)",
    "CREATE INDEX orders_retailer ON orders(trading_partner_id)",
    "CREATE INDEX orders_local_state ON orders(local_state)",
    """
    CREATE TABLE order_lines (
        dsco_order_id TEXT NOT NULL REFERENCES orders(dsco_order_id) ON DELETE CASCADE,
        line_index INTEGER NOT NULL,
        line_number INTEGER,
        dsco_item_id TEXT,
        sku TEXT,
        partner_sku TEXT,
        upc TEXT,
        title TEXT,
        quantity INTEGER NOT NULL DEFAULT 0,
        accepted_quantity INTEGER,
        cancelled_quantity INTEGER,
        shipped_quantity INTEGER,
        status TEXT,
        expected_cost REAL,
        consumer_price REAL,
        raw TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (dsco_order_id, line_index)
    )
    """,
    "CREATE INDEX order_lines_sku ON order_lines(sku)",
    """
    CREATE TABLE packages (
        id INTEGER PRIMARY KEY,
        dsco_order_id TEXT NOT NULL REFERENCES orders(dsco_order_id) ON DELETE CASCADE,
        dsco_package_id TEXT,
        tracking_number TEXT,
        ship_carrier TEXT,
        ship_method TEXT,
        shipping_service_level_code TEXT,
        ship_date TEXT,
        tracking_url TEXT,
        raw TEXT NOT NULL DEFAULT '{}'
    )
    """,
    "CREATE INDEX packages_order ON packages(dsco_order_id)",
    "CREATE INDEX packages_tracking ON packages(tracking_number)",
    """
    CREATE TABLE cancels (
        id INTEGER PRIMARY KEY,
        dsco_order_id TEXT NOT NULL REFERENCES orders(dsco_order_id) ON DELETE CASCADE,
        line_number INTEGER,
        sku TEXT,
        quantity INTEGER NOT NULL,
        cancel_code TEXT NOT NULL,
        reason TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        outbox_id INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX cancels_order ON cancels(dsco_order_id)",
    """
    CREATE TABLE invoices (
        invoice_id TEXT PRIMARY KEY NOT NULL,
        dsco_invoice_id TEXT,
        dsco_order_id TEXT,
        po_number TEXT,
        invoice_date TEXT,
        total_amount REAL,
        currency_code TEXT,
        state TEXT NOT NULL DEFAULT 'draft',
        outbox_id INTEGER,
        raw TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX invoices_order ON invoices(dsco_order_id)",
    "CREATE INDEX invoices_state ON invoices(state)",
    """
    CREATE TABLE invoice_lines (
        invoice_id TEXT NOT NULL REFERENCES invoices(invoice_id) ON DELETE CASCADE,
        line_index INTEGER NOT NULL,
        line_number INTEGER,
        sku TEXT,
        quantity INTEGER NOT NULL,
        unit_price REAL,
        raw TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (invoice_id, line_index)
    )
    """,
    """
    CREATE TABLE returns (
        return_number TEXT PRIMARY KEY NOT NULL,
        dsco_return_id TEXT,
        dsco_order_id TEXT,
        po_number TEXT,
        status TEXT,
        state TEXT NOT NULL DEFAULT 'draft',
        outbox_id INTEGER,
        raw TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX returns_order ON returns(dsco_order_id)",
    "CREATE INDEX returns_status ON returns(status)",
    """
    CREATE TABLE return_lines (
        return_number TEXT NOT NULL REFERENCES returns(return_number) ON DELETE CASCADE,
        line_index INTEGER NOT NULL,
        line_number INTEGER,
        sku TEXT,
        quantity INTEGER NOT NULL,
        reason_code TEXT,
        response TEXT,
        raw TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (return_number, line_index)
    )
    """,
    """
    CREATE TABLE stream_checkpoints (
        stream_id TEXT NOT NULL,
        partition_id INTEGER NOT NULL,
        position TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (stream_id, partition_id)
    )
    """,
    # Times in the outbox are epoch seconds (REAL): the sender compares them with its clock.
    # context: what the sender read from DSCO just before the first call (e.g. a line's
    # cancelled quantity), so after a crash it can tell whether that call was applied.
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        created_at REAL NOT NULL,
        window_started_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        claimed_by TEXT,
        last_error TEXT,
        messages TEXT NOT NULL DEFAULT '[]',
        context TEXT,
        result TEXT
    )
    """,
    "CREATE INDEX outbox_due ON outbox(state, next_attempt_at)",
    "CREATE INDEX outbox_kind ON outbox(kind)",
    """
    CREATE TABLE activity_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        status INTEGER,
        duration_ms REAL NOT NULL,
        request_id TEXT,
        error TEXT
    )
    """,
    """
    CREATE TABLE settings (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    )
    """,
)

# The order inbox (issue 4): per-order sums of the lines and a search text, kept at upsert time
# so the inbox lists, filters and counts 200,000 orders without opening their lines; the app's
# own "seen" mark and pending acknowledgement; each order's stream event history; and, per
# cancel, the line's cancelled quantity before it (to recognise DSCO's confirmation).
_ORDER_INBOX = (
    "ALTER TABLE orders ADD COLUMN order_date TEXT",
    "ALTER TABLE orders ADD COLUMN customer_name TEXT",
    "ALTER TABLE orders ADD COLUMN order_total REAL",
    "ALTER TABLE orders ADD COLUMN currency_code TEXT",
    "ALTER TABLE orders ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE orders ADD COLUMN cancel_requested_code TEXT",
    "ALTER TABLE orders ADD COLUMN line_count INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE orders ADD COLUMN qty_ordered INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE orders ADD COLUMN qty_shipped INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE orders ADD COLUMN qty_cancelled INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE orders ADD COLUMN qty_remaining INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE orders ADD COLUMN search_text TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE orders ADD COLUMN seen_at TEXT",
    "ALTER TABLE orders ADD COLUMN ack_outbox_id INTEGER",
    # Orders stored before this version: derive the sums from their lines, count them as seen.
    """
    UPDATE orders SET
        order_date = COALESCE(json_extract(raw, '$.consumerOrderDate'), retailer_create_date,
                              dsco_create_date),
        customer_name = json_extract(ship_to, '$.name'),
        order_total = json_extract(raw, '$.orderTotalAmount'),
        currency_code = json_extract(raw, '$.currencyCode'),
        line_count = (SELECT COUNT(*) FROM order_lines l
                      WHERE l.dsco_order_id = orders.dsco_order_id),
        qty_ordered = (SELECT COALESCE(SUM(quantity), 0) FROM order_lines l
                       WHERE l.dsco_order_id = orders.dsco_order_id),
        qty_shipped = (SELECT COALESCE(SUM(shipped_quantity), 0) FROM order_lines l
                       WHERE l.dsco_order_id = orders.dsco_order_id),
        qty_cancelled = (SELECT COALESCE(SUM(cancelled_quantity), 0) FROM order_lines l
                         WHERE l.dsco_order_id = orders.dsco_order_id),
        qty_remaining = (SELECT COALESCE(SUM(MAX(0, quantity - COALESCE(shipped_quantity, 0)
                                                 - COALESCE(cancelled_quantity, 0))), 0)
                         FROM order_lines l WHERE l.dsco_order_id = orders.dsco_order_id),
        search_text = lower(COALESCE(po_number, '') || ' ' || dsco_order_id || ' '
                            || COALESCE(consumer_order_number, '') || ' '
                            || COALESCE(json_extract(ship_to, '$.name'), '') || ' '
                            || COALESCE((SELECT group_concat(sku, ' ') FROM order_lines l
                                         WHERE l.dsco_order_id = orders.dsco_order_id), '')),
        seen_at = received_at
    """,
    "CREATE INDEX orders_order_date ON orders(order_date)",
    "CREATE INDEX orders_ack_by ON orders(acknowledge_by_date)",
    "CREATE INDEX orders_unseen ON orders(seen_at) WHERE seen_at IS NULL",
    """
    CREATE TABLE order_events (
        dsco_order_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        at TEXT,
        reasons TEXT NOT NULL DEFAULT '[]',
        source TEXT,
        lifecycle TEXT,
        received_at TEXT NOT NULL,
        PRIMARY KEY (dsco_order_id, event_id)
    )
    """,
    "ALTER TABLE cancels ADD COLUMN baseline_cancelled INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX cancels_state ON cancels(state)",
)

# Shipments made in the app (form or spreadsheet): one row per submission to DSCO (one
# singleShipment call, one outbox row), its packages, and the line quantities of each package.
# state: pending (queued) -> sent (DSCO said yes) -> confirmed (the re-read order shows the
# packages) | accepted_not_applied (DSCO said yes, the order does not show them) | rejected
# (DSCO's messages in dsco_message/messages) | failed (gave up sending).
_SHIPMENTS = (
    """
    CREATE TABLE shipments (
        id INTEGER PRIMARY KEY,
        dsco_order_id TEXT,
        po_number TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        source TEXT NOT NULL DEFAULT 'form',
        outbox_id INTEGER,
        idempotency_key TEXT NOT NULL UNIQUE,
        payload TEXT NOT NULL DEFAULT '{}',
        dsco_message TEXT,
        messages TEXT NOT NULL DEFAULT '[]',
        confirm_attempts INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        sent_at TEXT,
        confirmed_at TEXT
    )
    """,
    "CREATE INDEX shipments_order ON shipments(dsco_order_id)",
    "CREATE INDEX shipments_state ON shipments(state)",
    "CREATE INDEX shipments_outbox ON shipments(outbox_id)",
    """
    CREATE TABLE shipment_packages (
        shipment_id INTEGER NOT NULL REFERENCES shipments(id) ON DELETE CASCADE,
        package_index INTEGER NOT NULL,
        tracking_number TEXT NOT NULL,
        ship_carrier TEXT,
        shipping_service_level_code TEXT,
        ship_date TEXT,
        weight REAL,
        weight_unit TEXT,
        warehouse_code TEXT,
        PRIMARY KEY (shipment_id, package_index)
    )
    """,
    "CREATE INDEX shipment_packages_tracking ON shipment_packages(tracking_number)",
    """
    CREATE TABLE shipment_lines (
        shipment_id INTEGER NOT NULL REFERENCES shipments(id) ON DELETE CASCADE,
        package_index INTEGER NOT NULL,
        line_key TEXT NOT NULL,
        line_number INTEGER,
        sku TEXT,
        quantity INTEGER NOT NULL,
        PRIMARY KEY (shipment_id, package_index, line_key)
    )
    """,
)

# Catalog imports: one row per import (file, sheet, mapping, counts, state), one per sheet row
# (the original cells, the validated fields, every problem, the diff against the store, and
# what DSCO said), and saved column-mapping profiles (shared by every spreadsheet import,
# told apart by `kind`). Rows survive a restart so results can be followed up later.
_CATALOG_IMPORTS = (
    """
    CREATE TABLE catalog_imports (
        id INTEGER PRIMARY KEY,
        file_name TEXT NOT NULL,
        file_path TEXT NOT NULL,
        sheet TEXT,
        header_row INTEGER NOT NULL DEFAULT 0,
        headers TEXT NOT NULL DEFAULT '[]',
        mapping TEXT NOT NULL DEFAULT '[]',
        mode TEXT NOT NULL DEFAULT 'both',
        state TEXT NOT NULL DEFAULT 'validated',
        message TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE catalog_import_rows (
        import_id INTEGER NOT NULL REFERENCES catalog_imports(id) ON DELETE CASCADE,
        row_number INTEGER NOT NULL,
        sku TEXT,
        upc TEXT,
        cells TEXT NOT NULL DEFAULT '[]',
        item TEXT NOT NULL DEFAULT '{}',
        issues TEXT NOT NULL DEFAULT '[]',
        errors INTEGER NOT NULL DEFAULT 0,
        warnings INTEGER NOT NULL DEFAULT 0,
        diff TEXT NOT NULL DEFAULT 'invalid',
        changed_fields TEXT NOT NULL DEFAULT '[]',
        push_state TEXT NOT NULL DEFAULT 'not_sent',
        outbox_id INTEGER,
        request_id TEXT,
        dsco_message TEXT,
        PRIMARY KEY (import_id, row_number)
    )
    """,
    "CREATE INDEX catalog_import_rows_sku ON catalog_import_rows(import_id, sku)",
    "CREATE INDEX catalog_import_rows_upc ON catalog_import_rows(import_id, upc)",
    "CREATE INDEX catalog_import_rows_push ON catalog_import_rows(import_id, push_state)",
    "CREATE INDEX catalog_import_rows_outbox ON catalog_import_rows(outbox_id)",
    """
    CREATE TABLE mapping_profiles (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        layout_key TEXT NOT NULL,
        choices TEXT NOT NULL DEFAULT '{}',
        updated_at TEXT NOT NULL,
        UNIQUE (kind, name)
    )
    """,
    "CREATE INDEX mapping_profiles_layout ON mapping_profiles(kind, layout_key)",
)

# The inventory editor (issue 7): the allocation to open orders and the shop's own status on
# each level, what was last sent and what DSCO said about it; staged (pending) changes, one row
# per (sku, warehouse) holding the complete staged values; and the history of every local edit
# and every DSCO confirmation, with before/after values.
_INVENTORY_EDITOR = (
    "ALTER TABLE inventory ADD COLUMN allocated INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE inventory ADD COLUMN local_status TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE inventory ADD COLUMN sent_available INTEGER",
    "ALTER TABLE inventory ADD COLUMN push_state TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE inventory ADD COLUMN push_message TEXT",
    "ALTER TABLE inventory ADD COLUMN request_id TEXT",
    "ALTER TABLE inventory ADD COLUMN outbox_id INTEGER",
    "ALTER TABLE inventory ADD COLUMN pushed_at TEXT",
    "CREATE INDEX inventory_push_state ON inventory(push_state)",
    "CREATE INDEX inventory_request ON inventory(request_id)",
    "CREATE INDEX inventory_outbox ON inventory(outbox_id)",
    """
    CREATE TABLE inventory_pending (
        sku TEXT NOT NULL,
        warehouse_code TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        buffer INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'edit',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (sku, warehouse_code)
    )
    """,
    """
    CREATE TABLE inventory_history (
        id INTEGER PRIMARY KEY,
        sku TEXT NOT NULL,
        warehouse_code TEXT NOT NULL,
        at TEXT NOT NULL,
        source TEXT NOT NULL,
        field TEXT NOT NULL,
        before TEXT,
        after TEXT,
        note TEXT
    )
    """,
    "CREATE INDEX inventory_history_sku ON inventory_history(sku, id)",
)

# Invoices and returns (issue 8). Invoices: the amounts that make up the total, DSCO's answer
# (messages, the batch requestId), and per line the package (tracking number) and order line it
# bills, so what is already invoiced is known per package. state: pending (queued) -> sent ->
# accepted (DSCO has it) | rejected (DSCO's messages) | failed. Returns: DSCO's dates, who
# started it and the answer sent; per line the supplier's decision, its reason and restocking.
# return_restocks: accepted units to put back on the shelf, one row per return, SKU and
# warehouse, handed to the inventory editor's staged changes.
_INVOICES_RETURNS = (
    "ALTER TABLE invoices ADD COLUMN consumer_order_number TEXT",
    "ALTER TABLE invoices ADD COLUMN subtotal REAL",
    "ALTER TABLE invoices ADD COLUMN freight_amount REAL",
    "ALTER TABLE invoices ADD COLUMN handling_amount REAL",
    "ALTER TABLE invoices ADD COLUMN sales_tax_amount REAL",
    "ALTER TABLE invoices ADD COLUMN units INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE invoices ADD COLUMN ship_date TEXT",
    "ALTER TABLE invoices ADD COLUMN source TEXT NOT NULL DEFAULT 'app'",
    "ALTER TABLE invoices ADD COLUMN dsco_message TEXT",
    "ALTER TABLE invoices ADD COLUMN messages TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE invoices ADD COLUMN request_id TEXT",
    "ALTER TABLE invoices ADD COLUMN sent_at TEXT",
    "ALTER TABLE invoices ADD COLUMN accepted_at TEXT",
    "CREATE INDEX invoices_outbox ON invoices(outbox_id)",
    "CREATE INDEX invoices_po ON invoices(po_number)",
    "ALTER TABLE invoice_lines ADD COLUMN line_key TEXT",
    "ALTER TABLE invoice_lines ADD COLUMN tracking_number TEXT",
    "ALTER TABLE returns ADD COLUMN reason TEXT",
    "ALTER TABLE returns ADD COLUMN return_date TEXT",
    "ALTER TABLE returns ADD COLUMN dsco_create_date TEXT",
    "ALTER TABLE returns ADD COLUMN dsco_last_update TEXT",
    "ALTER TABLE returns ADD COLUMN initiated_by TEXT",
    "ALTER TABLE returns ADD COLUMN response_reason TEXT",
    "ALTER TABLE returns ADD COLUMN source TEXT NOT NULL DEFAULT 'dsco'",
    "ALTER TABLE returns ADD COLUMN dsco_message TEXT",
    "ALTER TABLE returns ADD COLUMN messages TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE returns ADD COLUMN complete_outbox_id INTEGER",
    "CREATE UNIQUE INDEX returns_dsco_id ON returns(dsco_return_id)",
    "CREATE INDEX returns_state ON returns(state)",
    "ALTER TABLE return_lines ADD COLUMN dsco_item_id TEXT",
    "ALTER TABLE return_lines ADD COLUMN title TEXT",
    "ALTER TABLE return_lines ADD COLUMN decision_reason TEXT",
    "ALTER TABLE return_lines ADD COLUMN restock INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE return_lines ADD COLUMN warehouse_code TEXT",
    """
    CREATE TABLE return_restocks (
        id INTEGER PRIMARY KEY,
        return_number TEXT NOT NULL,
        sku TEXT NOT NULL,
        warehouse_code TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'requested',
        message TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (return_number, sku, warehouse_code)
    )
    """,
    "CREATE INDEX return_restocks_state ON return_restocks(state)",
)

# Import rows are written 100,000 at a time, so every index costs; these fit the queries.
# The SKU index compares without case, as the duplicate lookups do (a plain index could not
# serve them); outbox and request ids are NULL until a push, so those indexes stay empty until
# then; the push-state index served no query that the primary key does not.
_IMPORT_ROW_INDEXES = (
    "DROP INDEX catalog_import_rows_sku",
    "CREATE INDEX catalog_import_rows_sku ON catalog_import_rows(import_id, sku COLLATE NOCASE) "
    "WHERE sku IS NOT NULL",
    "DROP INDEX catalog_import_rows_upc",
    "CREATE INDEX catalog_import_rows_upc ON catalog_import_rows(import_id, upc) "
    "WHERE upc IS NOT NULL",
    "DROP INDEX catalog_import_rows_push",
    "DROP INDEX catalog_import_rows_outbox",
    "CREATE INDEX catalog_import_rows_outbox ON catalog_import_rows(import_id, outbox_id) "
    "WHERE outbox_id IS NOT NULL",
    "CREATE INDEX catalog_import_rows_request ON catalog_import_rows(import_id, request_id) "
    "WHERE request_id IS NOT NULL",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "catalog, inventory, orders, documents, streams, outbox, activity", _V1),
    Migration(2, "order inbox: sums, search, seen, event history, cancel baselines", _ORDER_INBOX),
    Migration(3, "shipments made in the app, their packages and line quantities", _SHIPMENTS),
    Migration(4, "catalog imports, their rows and results, mapping profiles", _CATALOG_IMPORTS),
    Migration(5, "inventory editor: allocations, staged changes, history", _INVENTORY_EDITOR),
    Migration(6, "invoices and returns: amounts, answers, decisions, restocks", _INVOICES_RETURNS),
    Migration(7, "catalog import rows: indexes that fit their queries", _IMPORT_ROW_INDEXES),
)


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version this build of the app writes."""
    return max((m.version for m in migrations), default=0)


def apply_migrations(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> list[int]:
    """Apply, in order, every migration newer than the file's user_version; return those applied.

    `conn` must be in autocommit mode (isolation_level=None): each step is its own
    BEGIN IMMEDIATE ... COMMIT so a failure rolls back that step, and only that step.
    """
    ordered = sorted(migrations, key=lambda m: m.version)
    versions = [m.version for m in ordered]
    if len(set(versions)) != len(versions) or any(v < 1 for v in versions):
        raise ValueError(f"migration versions must be unique and positive: {versions}")
    applied: list[int] = []
    for migration in ordered:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the write lock: another process may have migrated meanwhile.
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if migration.version <= current:
                conn.execute("ROLLBACK")
                continue
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied.append(migration.version)
    return applied
