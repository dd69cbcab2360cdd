"""`python -m newsletter.cli ARGS` runs the `newsletter` command (without its installed script)."""

from newsletter.cli import main

main()
