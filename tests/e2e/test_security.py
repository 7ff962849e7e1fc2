"""Secrets never reach the disk, customer addresses stay in the orders tables, and a plain
http:// DSCO address on the network is refused by the app.

A full session (orders arriving, acknowledged, cancelled, shipped, invoiced, inventory pushed,
tokens revoked and renewed, 5xx answers) runs with the app's own redacting log file at DEBUG
and its activity log, and ends with a crash report written the way the crash handler writes
one, for an exception that carries a customer's order. Then every file in the data folder
(database, WAL, logs) is searched for the client secret, every access token DSCO issued, and
the customer's street, name and e-mail. Inside the database, the address may only appear in
the orders' own tables.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from dsco_desktop.app import DscoDesktop
from dsco_desktop.domain.settings import AppSettings, save_settings
from dsco_desktop.paths import resolve_paths, setup_logging
from dsco_desktop.services.account import AccountService
from dsco_desktop.store.db import Database
from dsco_desktop.store.settings import SettingsRepository
from tests.e2e.session import ShopSession

STREET = "4242 Quetzalcoatl Crescent"
BUYER = "Zebulon Marchbanks"
EMAIL = "zebulon.marchbanks@example.org"
# Tables that hold orders as DSCO described them (and the raw stream events they came from).
ORDER_TABLES = {"orders", "order_lines", "packages", "order_events"}


def _order_with_address(sandbox: Any, serial: int) -> dict[str, Any]:
    sku = sandbox.state.all_skus()[serial % 5]
    return {
        "poNumber": f"PO-SEC-{serial:03d}-{time.time_ns() % 10**8}",
        "shipping": {
            "name": BUYER,
            "address": [STREET, "Apt 9"],
            "city": "Walla Walla",
            "region": "WA",
            "postal": "99362",
            "email": EMAIL,
            "phone": "+1 509 555 0142",
        },
        "lineItems": [{"sku": sku, "quantity": 2, "lineNumber": 1}],
    }


def _tables_containing(database: Path, needle: str) -> set[str]:
    conn = sqlite3.connect(database)
    try:
        found = set()
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            for column in columns:
                hit = conn.execute(
                    f'SELECT 1 FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE ? LIMIT 1',
                    (f"%{needle}%",),
                ).fetchone()
                if hit:
                    found.add(table)
        return found
    finally:
        conn.close()


@pytest.mark.e2e
def test_after_a_full_session_no_secret_token_or_stray_address_is_on_disk(
    sandbox_factory: Callable[..., Any],
    isolated_dirs: Path,
    record_figures: Callable[[str, dict[str, Any]], None],
) -> None:
    secret = "cs-" + secrets.token_urlsafe(24)
    sandbox = sandbox_factory(
        client_secret=secret, rate_limits=True, error_rate=0.15, seed=7, async_delay_s=0.02
    )
    paths = resolve_paths()
    paths.create()
    log_file = setup_logging(paths, level=logging.DEBUG)
    AccountService().save_secret("custom", sandbox.client_id, secret)  # the keyring, not disk
    issued: set[str] = set()
    revoke = sandbox._api.revoke_tokens

    def revoke_and_remember() -> None:
        issued.update(sandbox._api.tokens)
        revoke()

    db = Database(paths.database)
    session = ShopSession(sandbox, db, seed=7)
    try:
        for serial in range(6):
            session.client.create_order(_order_with_address(sandbox, serial))
        for step in range(40):
            session.step()
            if step % 10 == 9:
                revoke_and_remember()
        session.settle()
        issued.update(sandbox._api.tokens)
        # A bug while handling one of these orders: the crash handler logs it with its traceback.
        order = (
            db.connection()
            .execute("SELECT ship_to FROM orders WHERE ship_to LIKE ?", (f"%{STREET}%",))
            .fetchone()
        )
        assert order is not None, "the orders with the address never arrived"
        try:
            raise RuntimeError(f"could not print the packing slip for {order[0]}")
        except RuntimeError:
            logging.getLogger("dsco_desktop.ui.crash").critical("Uncaught exception", exc_info=True)
    finally:
        session.client.close()
        db.close_all()
        logging.getLogger().handlers[-1].flush()
    assert issued, "no token was captured: the test would prove nothing"
    assert log_file.exists() and log_file.stat().st_size > 0

    files = [p for p in isolated_dirs.rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes()
        assert secret.encode() not in data, f"the client secret is in {path.name}"
        for token in issued:
            assert token.encode() not in data, f"an access token is in {path.name}"
        if path.suffix in (".log",) or ".log." in path.name:
            for needle in (STREET, BUYER, EMAIL):
                assert needle.encode() not in data, f"{needle!r} is in the log {path.name}"
    tables = _tables_containing(paths.database, STREET) | _tables_containing(paths.database, EMAIL)
    assert tables and tables <= ORDER_TABLES, f"the address is outside the orders tables: {tables}"
    record_figures(
        "security",
        {"files_searched": len(files), "tokens_checked": len(issued), "tables": sorted(tables)},
    )


@pytest.mark.e2e
def test_a_plain_http_address_on_the_network_is_refused_by_the_app(qtbot: QtBot) -> None:
    paths = resolve_paths()
    paths.create()
    db = Database(paths.database)
    save_settings(
        SettingsRepository(db),
        AppSettings(
            environment="custom",
            custom_base_url="http://dsco.example.com/api/v3",
            client_id="shop-1",
        ),
    )
    db.close_all()
    AccountService().save_secret("custom", "shop-1", "a-real-secret")
    desktop = DscoDesktop(paths, log_file=paths.log_file)
    desktop.start()
    assert desktop.window is not None
    qtbot.addWidget(desktop.window)
    try:
        # The saved account is not used: no client exists, so no secret can leave over http.
        assert desktop.session.client() is None
        dialog = desktop.open_account_dialog()
        qtbot.waitUntil(lambda: "Refusing" in dialog.base_url_label.text())
        assert "plain http://" in dialog.base_url_label.text()
        assert dialog.base_url_label.isVisible()
        dialog.grab().save("/tmp/shots/account_http_refused.png")
        # The same host over https is fine; http on this computer (a local sandbox) is too.
        dialog.custom_url.setText("https://dsco.example.com/api/v3")
        qtbot.waitUntil(lambda: "Calls go to" in dialog.base_url_label.text())
        dialog.custom_url.setText("http://127.0.0.1:8765/api/v3")
        qtbot.waitUntil(lambda: "127.0.0.1" in dialog.base_url_label.text())
    finally:
        desktop.shutdown()
