"""The editors' desk under /desk: login, inbox, issue editor, preview, sending, subscribers.

Pages are rendered on the server; the JavaScript there is (`/desk/assets/desk.js`, and the
editor's `/desk/assets/editor.js`: autosave, live preview, bulk actions, shortcuts) enhances
forms that work without it. One module-level router per concern, all in `ROUTERS`;
`create_app` includes them and puts the desk's state (`requests.Desk`) in `app.state.desk`.
"""

from __future__ import annotations

from newsletter.web.desk import auth, dashboard, editor, inbox, issues, preview, subscribers

# In this order where paths overlap: `/desk/issues/draft` before `/desk/issues/{issue_id}`.
ROUTERS = tuple(
    concern.router for concern in (auth, dashboard, inbox, issues, editor, preview, subscribers)
)

__all__ = ["ROUTERS"]
