"""Collect: fetch feeds, parse, normalise, sanitise, enrich articles; feed back-off."""
