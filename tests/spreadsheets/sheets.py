"""Spreadsheets written by the tests: xlsx via openpyxl, CSV in any encoding, and a workbook
that is password-protected in the way Excel stores one (an OLE2 compound file holding an
"EncryptedPackage" stream, which is what readers look for)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl

_END = 0xFFFFFFFE
_FREE = 0xFFFFFFFF
_FAT_SECTOR = 0xFFFFFFFD
_NO_STREAM = 0xFFFFFFFF


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    sheet: str = "Items",
    extra_sheets: Sequence[str] = (),
) -> Path:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    for name in extra_sheets:
        workbook.create_sheet(name)
    workbook.save(path)
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _entry(
    name: str, kind: int, *, child: int = _NO_STREAM, start: int = _END, size: int = 0
) -> bytes:
    raw = name.encode("utf-16-le") + b"\0\0" if name else b""
    data = raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
    data += struct.pack("<III", _NO_STREAM, _NO_STREAM, child) + b"\0" * 36
    return data + struct.pack("<IQ", start, size)


def write_encrypted_xlsx(path: Path) -> Path:
    """A minimal compound file with an EncryptedPackage stream, as Excel saves with a password."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
    header += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", _FREE) * 108
    fat = [_FAT_SECTOR, _END] + [n + 1 for n in range(2, 9)] + [_END]
    fat += [_FREE] * (128 - len(fat))
    directory = (
        _entry("Root Entry", 5, child=1)
        + _entry("EncryptedPackage", 2, start=2, size=4096)
        + _entry("", 0) * 2
    )
    path.write_bytes(header + struct.pack("<128I", *fat) + directory + b"\0" * 4096)
    return path
