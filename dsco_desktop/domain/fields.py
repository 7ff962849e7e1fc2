"""Field definitions for spreadsheet imports: what a column can mean, in one generic shape.

The catalog import (`domain/catalog.py`) and the inventory editor each declare their fields as
`FieldDef`s; the spreadsheet mapper matches sheet headers against a field's name, label and
synonyms, so the reader and the mapper never need to know which import they serve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

FieldKind = Literal[
    "text", "identifier", "money", "number", "integer", "enum", "boolean", "url", "category", "date"
]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_TRAILING_NUMBER = re.compile(r"\d+$")


def header_key(text: object) -> str:
    """A header reduced to lower-case letters and digits: "Item SKU #" -> "itemsku"."""
    return _NON_ALNUM.sub("", str(text or "").lower())


def numbered_key(text: object) -> str:
    """`header_key` without a trailing number: "Image 2" -> "image", "Colour" -> "colour"."""
    return _TRAILING_NUMBER.sub("", header_key(text))


@dataclass(frozen=True)
class FieldDef:
    """One field a spreadsheet column can be mapped to.

    `multiple`: several columns may map here (Image 1, Image 2, ...), giving a list.
    `text_from_numbers`: a cell typed as a number is turned back into its digits (SKUs, UPCs).
    `lengths`: allowed digit counts for identifiers; `choices`: allowed values for enums.
    `note` is the hint printed in the template's notes row.
    """

    name: str
    label: str
    kind: FieldKind = "text"
    required: bool = False
    synonyms: tuple[str, ...] = ()
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    lengths: tuple[int, ...] = ()
    multiple: bool = False
    text_from_numbers: bool = False
    note: str = ""
    aliases: dict[str, str] = field(default_factory=dict)

    def header_keys(self) -> frozenset[str]:
        """Every header spelling (reduced by `header_key`) that names this field."""
        names = {self.name, self.label, *self.synonyms}
        return frozenset(k for k in (header_key(n) for n in names) if k)


def field_index(fields: tuple[FieldDef, ...]) -> dict[str, FieldDef]:
    """Fields by name."""
    return {f.name: f for f in fields}
