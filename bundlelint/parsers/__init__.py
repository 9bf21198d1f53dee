"""Parsers: bytes in, frozen models out. They know nothing of rules."""
