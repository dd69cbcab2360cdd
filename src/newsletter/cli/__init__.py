"""The `newsletter` command: one thin module per command group, each command parses its
arguments, calls one use case and prints the result.

    main.py         the root group and `main` (errors -> exit codes 0, 1, 2)
    options.py      `--config`, `--json`, the services opened for one command
    output.py       JSON or rich tables on stdout; warnings and the progress bar on stderr
    ops.py          init, doctor, run
    feeds.py        collect, feeds
    issue.py        issue draft | list | preview | test | schedule | send | status
    subscribers.py  subscribers add | import | export | list | remove
    editors.py      editors add

Heavy modules (the store, the renderer, the web app) are imported inside the commands, so
`newsletter --help` stays fast.
"""

from newsletter.cli.main import cli, main

__all__ = ["cli", "main"]
