"""newsletter: feeds in, a curated issue out, delivered with a per-recipient ledger.

The folders follow the pipeline:

    domain/    model types, the error tree, clock, tokens, pure predicates and parsers; no I/O
    collect/   feeds into articles: fetch, parse, normalise, sanitise, enrich, per-feed back-off
    curate/    the issue state machine, the auto-drafted digest, the editors
    render/    an issue into an inlined-CSS email once, then a cheap copy per recipient
    deliver/   the ledger-driven send loop, the providers, the providers' events
    audience/  subscribers, consent, import/export, the transactional outbox
    store/     SQLAlchemy tables, Alembic migrations, one repository per concept, private files
    web/       the FastAPI app: public pages, archive, webhooks, the editors' desk
    runtime/   configuration, wiring, scheduler, leader lock, jobs, doctor, logging, `run`
    cli/       the `newsletter` command

Import rule (tests/test_layout.py checks every import, those inside functions too; a new
exception must be listed there with its reason):
- domain/ imports nothing of ours outside domain/.
- Nothing below the wiring imports runtime/: domain/, collect/, curate/, render/, deliver/,
  audience/ and store/ receive what they need (repositories, clock, provider, renderer) as
  arguments.
- web/ and cli/ drive; nothing else imports them, but runtime/process.py, which serves the web
  app (`python -m newsletter.cli` runs the command from cli/__main__.py).
- Each outside library stays behind one module or folder: SQLAlchemy and Alembic in store/,
  feedparser in collect/parse.py, premailer in render/, the SendGrid SDK in
  deliver/sendgrid.py, APScheduler in runtime/scheduler.py.
- The top of the package holds __init__.py, py.typed and the folders: no flat module, at most
  a dozen entries in all.
"""

__version__ = "0.1.0"
