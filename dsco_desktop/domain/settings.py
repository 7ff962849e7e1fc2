"""The app's settings, declared once with their types and defaults.

Settings live in the store's settings table, one key per field (`settings.<name>`), each value
a JSON-compatible value (the repository encodes it). Unknown or invalid stored
values fall back to the default instead of stopping the app. Persisted UI state (window
geometry, column widths) is not here: the UI keeps it apart.
Secrets are never settings: the client secret lives in the OS keyring (services/account.py).
"""

from __future__ import annotations

import logging
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)

EnvironmentName = Literal["sandbox", "staging", "production", "custom"]
ENVIRONMENT_NAMES: tuple[EnvironmentName, ...] = ("sandbox", "staging", "production", "custom")

KEY_PREFIX = "settings."


class SettingsStore(Protocol):
    """What settings need from the store (SettingsRepository satisfies it)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


class AppSettings(BaseModel):
    """Everything a shop owner can configure, with safe defaults for a first start."""

    model_config = ConfigDict(validate_assignment=True, extra="ignore")

    environment: EnvironmentName = Field(
        default="production", description="Which DSCO the app talks to."
    )
    custom_base_url: str = Field(
        default="", description="Base URL when environment is 'custom' (https unless loopback)."
    )
    client_id: str = Field(
        default="", description="DSCO API client id; its secret is in the keyring."
    )
    stream_poll_interval_s: float = Field(
        default=5.0, ge=1.0, le=3600.0, description="Seconds between order stream polls."
    )
    auto_acknowledge_orders: bool = Field(
        default=False, description="Acknowledge new orders with DSCO as soon as they arrive."
    )
    low_stock_threshold: int = Field(
        default=5, ge=0, description="Quantity at or below which an item is flagged as low stock."
    )
    outbox_batch_size: int = Field(
        default=50, ge=1, le=1000, description="Outbox rows sent per round."
    )
    default_warehouse_code: str = Field(
        default="", description="Warehouse used when a spreadsheet row names none."
    )
    invoice_number_pattern: str = Field(
        default="INV-{YYYY}{MM}{DD}-{SEQ:4}",
        description="Invoice numbers: {SEQ} (running number, {SEQ:5} padded), {YYYY}, {YY}, "
        "{MM}, {DD}, {PO}. Must contain {SEQ} so no number repeats.",
    )
    invoice_handling_amount: float = Field(
        default=0.0, ge=0.0, description="Handling charge added to each new invoice."
    )
    return_number_pattern: str = Field(
        default="RET-{YYYY}{MM}{DD}-{SEQ:4}", description="Numbers of returns you start."
    )
    inventory_sync_minutes: int = Field(
        default=0,
        ge=0,
        le=1440,
        description="Push every changed inventory quantity every N minutes (0 = only by hand).",
    )


def load_settings(store: SettingsStore) -> AppSettings:
    """The saved settings; a field missing or invalid in the store takes its default."""
    values: dict[str, Any] = {}
    for name in AppSettings.model_fields:
        raw = store.get(KEY_PREFIX + name, None)
        if raw is not None:
            values[name] = raw
    try:
        return AppSettings.model_validate(values)
    except ValidationError as exc:
        bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        log.warning("Ignoring invalid settings %s", sorted(bad))
        return AppSettings.model_validate({k: v for k, v in values.items() if k not in bad})


def save_settings(store: SettingsStore, settings: AppSettings) -> None:
    """Write every field (so the stored state is complete and readable on its own)."""
    for name, value in settings.model_dump(mode="json").items():
        store.set(KEY_PREFIX + name, value)
