"""Render: an issue into an inlined-CSS email once, then a cheap copy per recipient."""
