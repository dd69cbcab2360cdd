"""The desk's editors (admins only): invite by a one-time link, remove, reset a password,
change a role; the log of people actions; and the page where a one-time link sets a password.
"""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from newsletter.curate import editors as editor_cases
from newsletter.curate.passwords import MIN_LENGTH
from newsletter.domain.errors import TokenError, UsageError
from newsletter.web.desk import security
from newsletter.web.desk.requests import (
    Admin,
    AdminPosted,
    Desk,
    DeskState,
    field,
    log_action,
    redirect,
    verify_post,
)
from newsletter.web.params import RowId

router = APIRouter(prefix="/desk", include_in_schema=False)

ACTIONS = {
    "subscriber_added": "Abonné ajouté",
    "subscriber_edited": "Abonné modifié",
    "subscriber_unsubscribed": "Abonné désinscrit",
    "subscriber_erased": "Abonné effacé (RGPD)",
    "subscribers_imported": "Import CSV",
    "editor_invited": "Rédacteur invité",
    "editor_removed": "Rédacteur supprimé",
    "editor_reset": "Lien de mot de passe créé",
    "editor_role": "Rôle modifié",
    "password_set": "Mot de passe choisi",
    "issue_send": "Envoi ou programmation demandé",
}
ROLES = {editor_cases.Role.EDITOR: "Rédacteur", editor_cases.Role.ADMIN: "Administrateur"}


@router.get("/editors")
def editors_page(request: Request, editor: Admin, desk: DeskState) -> HTMLResponse:
    return _editors(request, desk)


def _editors(request: Request, desk: Desk, link: str | None = None, who: str = "") -> HTMLResponse:
    return desk.page(
        request,
        "desk/editors.html",
        editors=editor_cases.list_editors(desk.services.store.editors),
        roles=ROLES,
        link=link,
        who=who,
        hours=editor_cases.LINK_HOURS,
    )


@router.post("/editors/invite")
def invite(form: AdminPosted, request: Request, desk: DeskState) -> Response:
    name = field(form, "name", 200)
    role = editor_cases.Role.ADMIN if form.get("role") == "admin" else editor_cases.Role.EDITOR
    try:
        token = editor_cases.invite(
            desk.services.store.editors,
            desk.services.signer,
            desk.now(),
            name,
            field(form, "email", 320) or None,
            role,
        )
    except UsageError:
        return redirect("/desk/editors", err="editor")
    log_action(request, desk, "editor_invited", f"{name} ({ROLES[role]})")
    return _editors(request, desk, _link(desk, token), name)


@router.post("/editors/{editor_id}/reset")
def reset(editor_id: RowId, form: AdminPosted, request: Request, desk: DeskState) -> Response:
    target = _load(desk, editor_id)
    token = editor_cases.password_link_token(desk.services.signer, target, desk.now())
    log_action(request, desk, "editor_reset", target.name)
    return _editors(request, desk, _link(desk, token), target.name)


@router.post("/editors/{editor_id}/remove")
def remove(editor_id: RowId, form: AdminPosted, request: Request, desk: DeskState) -> Response:
    target = _load(desk, editor_id)
    try:
        editor_cases.remove_editor(desk.services.store.editors, target)
    except UsageError:
        return redirect("/desk/editors", err="lastadmin")
    log_action(request, desk, "editor_removed", target.name)
    return redirect("/desk/editors", ok="editor_removed")


@router.post("/editors/{editor_id}/role")
def role(editor_id: RowId, form: AdminPosted, request: Request, desk: DeskState) -> Response:
    target = _load(desk, editor_id)
    chosen = editor_cases.Role.ADMIN if form.get("role") == "admin" else editor_cases.Role.EDITOR
    try:
        editor_cases.change_role(desk.services.store.editors, target, chosen)
    except UsageError:
        return redirect("/desk/editors", err="lastadmin")
    log_action(request, desk, "editor_role", f"{target.name} : {ROLES[chosen]}")
    return redirect("/desk/editors", ok="role")


@router.get("/log")
def log_page(request: Request, editor: Admin, desk: DeskState) -> HTMLResponse:
    entries = desk.services.store.editors.recent_log()
    return desk.page(request, "desk/log.html", entries=entries, actions=ACTIONS)


@router.get("/password/{token}")
def password_page(request: Request, token: str, desk: DeskState) -> HTMLResponse:
    """The page of a one-time link: choose a password (no login: the link is the proof)."""
    try:
        target = _link_editor(desk, token)
    except TokenError:
        return desk.page(request, "desk/password.html", status_code=400, target=None)
    anchor = (
        request.cookies.get(security.LOGIN_COOKIE) or security.new_session(0, "", desk.now()).nonce
    )
    response = desk.page(
        request, "desk/password.html", anchor=anchor, target=target, minimum=MIN_LENGTH
    )
    desk.cookie(response, security.LOGIN_COOKIE, anchor, max_age=3600)
    return response


@router.post("/password/{token}")
async def set_password(request: Request, token: str, desk: DeskState) -> Response:
    form = await request.form()
    verify_post(request, desk, form, request.cookies.get(security.LOGIN_COOKIE))
    try:
        target = _link_editor(desk, token)
    except TokenError:
        return desk.page(request, "desk/password.html", status_code=400, target=None)
    password = str(form.get("password", ""))[:1024]
    if password != str(form.get("again", ""))[:1024] or len(password) < MIN_LENGTH:
        return desk.page(
            request,
            "desk/password.html",
            status_code=422,
            target=target,
            minimum=MIN_LENGTH,
            problem=f"Les deux mots de passe doivent être identiques et faire au moins "
            f"{MIN_LENGTH} caractères.",
        )
    editor_cases.set_password(desk.services.store.editors, target, password)
    desk.services.store.editors.log(desk.now(), target.name, "password_set", target.name)
    return redirect("/desk/login", ok="password")


def _link(desk: Desk, token: str) -> str:
    return f"{desk.settings.newsletter.base_url}/desk/password/{token}"


def _link_editor(desk: Desk, token: str) -> editor_cases.Editor:
    return editor_cases.editor_of_link(
        desk.services.store.editors, desk.services.signer, token, desk.now()
    )


def _load(desk: Desk, editor_id: int) -> editor_cases.Editor:
    target = editor_cases.get_editor(desk.services.store.editors, editor_id)
    if target is None:
        raise HTTPException(404, "aucun rédacteur avec cet identifiant")
    return target
