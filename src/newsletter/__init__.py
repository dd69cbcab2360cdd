"""newsletter: feeds in, a curated issue out, delivered with a per-recipient ledger."""

__version__ = "0.1.0"
