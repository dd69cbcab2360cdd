"""The editors' desk under /desk: login, inbox, issue editor, preview, sending, subscribers.

Pages are rendered on the server; the little JavaScript there is (`/desk/assets/desk.js`) only
enhances forms that work without it. One module-level router per concern, all in `ROUTERS`;
`create_app` includes them and puts the desk's state (`requests.Desk`) in `app.state.desk`.
"""

from __future__ import annotations

from newsletter.web.desk import auth, dashboard, inbox, issues, preview, results, subscribers

# In this order where paths overlap: `/desk/issues/draft` before `/desk/issues/{issue_id}`.
ROUTERS = tuple(
    concern.router for concern in (auth, dashboard, inbox, issues, preview, results, subscribers)
)

__all__ = ["ROUTERS"]
