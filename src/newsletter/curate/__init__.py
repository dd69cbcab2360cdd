"""Curate: the issue state machine, the auto-drafted digest and the editors' accounts; the
inbox as stories (stories.py groups and leads, ranking.py scores, sections.py files them,
inbox.py lists them and records what editors decide)."""
