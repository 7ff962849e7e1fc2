"""Pydantic models and pure rules: no I/O, no Qt."""
