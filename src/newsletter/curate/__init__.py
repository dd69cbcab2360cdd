"""Curate: the issue state machine, the auto-drafted digest and the editors' accounts."""
