"""Column mapping: which sheet column feeds which field, guessed and then edited by the user.

`auto_map` guesses from the field's name, label and synonyms (and, first of all, from what the
user chose before for the same layout: a saved profile's choices keyed by header). Each column
maps to a field name, to `IGNORE`, or to an extended attribute named after its header
(`EXTENDED_PREFIX` + header). Several columns may feed a `multiple` field (Image 1, Image 2).
The field definitions are passed in, so the catalog import and the inventory editor share it.

`RowSplitter` turns a raw row into {field: value} (lists for multiple fields) plus the extended
attributes, with a precomputed column plan so it is cheap per row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dsco_desktop.domain.fields import FieldDef, header_key, numbered_key

IGNORE = ""
EXTENDED_PREFIX = "extended:"


def header_text(cell: object) -> str:
    """A header cell as a column title ("" for an empty one)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def layout_key(headers: Sequence[str]) -> str:
    """A short fingerprint of a sheet's layout (its headers, in order, normalised)."""
    joined = "\x1f".join(header_key(h) for h in headers)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:16]


def extended_target(header: str) -> str:
    return EXTENDED_PREFIX + header


@dataclass(frozen=True)
class ColumnMapping:
    """Per column of the sheet: the target field name, IGNORE, or "extended:<name>"."""

    headers: tuple[str, ...]
    targets: tuple[str, ...]

    def columns_for(self, name: str) -> list[int]:
        """The columns mapped to a field, left to right."""
        return [i for i, t in enumerate(self.targets) if t == name]

    def column_of(self, name: str, position: int = 0) -> int | None:
        """The column holding a field (the `position`-th one for multiple fields)."""
        columns = self.columns_for(name)
        return columns[position] if position < len(columns) else (columns[0] if columns else None)

    @property
    def mapped_fields(self) -> set[str]:
        return {t for t in self.targets if t and not t.startswith(EXTENDED_PREFIX)}

    def with_target(self, column: int, target: str) -> ColumnMapping:
        targets = list(self.targets)
        targets[column] = target
        return ColumnMapping(self.headers, tuple(targets))

    def as_choices(self) -> dict[str, str]:
        """{normalised header: target}: what a saved profile remembers."""
        return {header_key(h): t for h, t in zip(self.headers, self.targets, strict=True) if h}


def auto_map(
    headers: Sequence[str],
    fields: Sequence[FieldDef],
    remembered: Mapping[str, str] | None = None,
) -> ColumnMapping:
    """Guess each column's field; `remembered` ({normalised header: target}) wins over guesses.

    A single-valued field goes to the first column that names it; later ones are ignored
    (the user can still pick them). Unknown columns are ignored.
    """
    by_name = {fd.name: fd for fd in fields}
    exact: dict[str, FieldDef] = {}
    numbered: dict[str, FieldDef] = {}
    # Earlier fields win a synonym that two fields share.
    for fd in fields:
        for key in fd.header_keys():
            exact.setdefault(key, fd)
            if fd.multiple:
                numbered.setdefault(key, fd)
    targets: list[str] = []
    taken: set[str] = set()
    for header in headers:
        key = header_key(header)
        target = IGNORE
        if remembered and key in remembered:
            choice = remembered[key]
            free = choice in by_name and (by_name[choice].multiple or choice not in taken)
            if choice == IGNORE or choice.startswith(EXTENDED_PREFIX) or free:
                target = choice
        elif key:
            found = exact.get(key) or numbered.get(numbered_key(header))
            if found is not None and (found.multiple or found.name not in taken):
                target = found.name
        if target and not target.startswith(EXTENDED_PREFIX):
            taken.add(target)
        targets.append(target)
    return ColumnMapping(tuple(headers), tuple(targets))


def mapping_problems(mapping: ColumnMapping, fields: Sequence[FieldDef]) -> list[str]:
    """What stops this mapping from being used: a missing key field, a field mapped twice."""
    problems: list[str] = []
    by_name = {fd.name: fd for fd in fields}
    key_field = fields[0] if fields else None
    if key_field is not None and key_field.name not in mapping.mapped_fields:
        problems.append(f"No column is mapped to {key_field.label}; every row needs one.")
    for name in sorted(mapping.mapped_fields):
        fd = by_name.get(name)
        if fd is None:
            problems.append(f"'{name}' is not a field this import knows.")
            continue
        columns = mapping.columns_for(name)
        if not fd.multiple and len(columns) > 1:
            heads = ", ".join(mapping.headers[c] or f"column {c + 1}" for c in columns)
            problems.append(f"{fd.label} is mapped from more than one column ({heads}).")
    return problems


class RowSplitter:
    """Splits raw rows by a mapping: ({field: value or [values]}, {extended name: value})."""

    def __init__(self, mapping: ColumnMapping, fields: Sequence[FieldDef]) -> None:
        multiple = {fd.name for fd in fields if fd.multiple}
        self._single: list[tuple[str, int]] = []
        self._multi: dict[str, list[int]] = {}
        self._extended: list[tuple[str, int]] = []
        for column, target in enumerate(mapping.targets):
            if not target:
                continue
            if target.startswith(EXTENDED_PREFIX):
                self._extended.append((target[len(EXTENDED_PREFIX) :], column))
            elif target in multiple:
                self._multi.setdefault(target, []).append(column)
            else:
                self._single.append((target, column))
        self.width = len(mapping.targets)

    def split(self, row: Sequence[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        size = len(row)
        values: dict[str, Any] = {
            name: row[column] if column < size else None for name, column in self._single
        }
        for name, columns in self._multi.items():
            values[name] = [row[c] if c < size else None for c in columns]
        extended = {name: row[c] for name, c in self._extended if c < size}
        return values, extended


def is_blank_row(row: Sequence[Any]) -> bool:
    """Whether every cell of a row is empty (such rows are skipped, not reported)."""
    for cell in row:
        if cell is None:
            continue
        if isinstance(cell, str):
            if cell.strip():
                return False
        else:
            return False
    return True
