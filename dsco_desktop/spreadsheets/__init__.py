"""Spreadsheet reading, column mapping, export and templates; no Qt."""
