"""The words of the public pages, in the newsletter's language with an English fallback.

A key missing from a language falls back to English, and an unknown language is English.
"""

from __future__ import annotations

from typing import Any

ENGLISH: dict[str, str] = {
    "subscribe_title": "Subscribe to {name}",
    "subscribe_intro": "The best of the week's news, in your inbox every week.",
    "email_label": "Email address",
    "name_label": "First name (optional)",
    "sections_legend": "Your sections",
    "sections_hint": "Untick those you do not want; each issue lets you change your mind.",
    "honeypot_label": "Leave this field empty",
    "consent": (
        "By subscribing you agree to receive {name} by email. We send you a confirmation "
        "email first; every issue has a link to unsubscribe at any time."
    ),
    "consent_clicks": (
        "Links to articles go through our site, so we count which ones readers open."
    ),
    "submit": "Subscribe",
    "accepted_title": "Check your inbox",
    "accepted": (
        "If this address can receive {name}, a confirmation email is on its way. "
        "Follow its link to confirm your subscription."
    ),
    "confirm_title": "Confirm your subscription to {name}",
    "confirm_intro": "Press the button to confirm that you want to receive {name} by email.",
    "confirm_button": "Confirm my subscription",
    "confirmed_title": "Subscription confirmed",
    "confirmed": "Welcome! You will receive {name} from the next issue on.",
    "already_confirmed": "This subscription was already confirmed. Thank you!",
    "link_invalid_title": "This link does not work",
    "link_invalid": "This link is invalid or has been altered. Sign up again to get a new one.",
    "link_expired": "This link has expired. Sign up again to get a new one.",
    "preferences_title": "Your sections of {name}",
    "preferences_intro": "The sections you receive",
    "preferences_hint": "Tick none or all to receive every section, new ones included.",
    "preferences_button": "Save",
    "preferences_saved": "Your choice is saved.",
    "preferences_none": "This newsletter has no sections to choose from.",
    "preferences_leave": "Rather receive nothing at all?",
    "unsubscribe_title": "Unsubscribe from {name}",
    "unsubscribe_intro": "Press the button to stop receiving {name}.",
    "unsubscribe_button": "Unsubscribe",
    "unsubscribed_title": "You are unsubscribed",
    "resubscribe": "Sign up again",
    "error_title": "Something is wrong",
    "address_control": "An email address cannot hold line breaks or control characters.",
    "address_empty": "Enter your email address.",
    "address_too_long": "An email address has at most 320 characters.",
    "address_no_at": "An email address needs an @, as in jean.dupont@example.org.",
    "address_no_local": "Something is missing before the @, as in jean.dupont@example.org.",
    "address_no_domain": (
        "Something is missing after the @: the domain, as in jean.dupont@example.org."
    ),
    "address_bad_local": "The part before the @ holds characters an email address cannot have.",
    "address_non_ascii_local": (
        "Accents and other non-ASCII letters cannot be used before the @: "
        "our emails could not reach this address."
    ),
    "address_bad_domain": "The part after the @ is not a domain name such as example.org.",
    "address_syntax": "This is not an email address such as jean.dupont@example.org.",
    "address_role": (
        "Shared addresses (contact@, info@…) are not accepted: use a personal address."
    ),
    "address_disposable": "Disposable mailboxes are not accepted: use an address you keep.",
    "address_name_lines": "A name stays on one line.",
    "address_name_control": "A name cannot hold control characters.",
    "address_date": "consent_at must be a past date written YYYY-MM-DD.",
    "address_suppressed": "Erased at its owner’s request: only their own sign-up brings it back.",
    "address_unsubscribed": "Unsubscribed: only re-imported when you choose to bring it back.",
    "address_bounced": "Bounced: only re-imported when you choose to bring it back.",
    "address_complained": "Reported the newsletter as spam: only their own sign-up brings it back.",
    "masked_address": "Address concerned: {address}",
    "unsubscribe_done": (
        "{address} is unsubscribed: it will no longer receive {name}. You can sign up again "
        "at any time."
    ),
    "archive_link": "Read the past issues",
    "latest_link": "Read the latest issue: {subject}",
    "archive_title": "{name}: all issues",
    "missing_email": "An email address is required (field \u201cemail\u201d).",
    "bad_field": "The field \u201c{field}\u201d must be text.",
    "bad_sections": "The field \u201csections\u201d must be a list of section names.",
    "bad_consent_version": (
        "The field \u201cconsent_version\u201d must be at most {limit} characters, without "
        "control characters."
    ),
    "honeypot": "This form was filled in by a program, not a person; nothing was done.",
    "bad_json": "The body is not valid JSON: {reason}",
    "not_an_object": 'The body must be a JSON object such as {{"email": "ada@example.org"}}.',
    "bad_form": "The form data could not be read.",
    "unsupported_type": (
        "Send the sign-up as application/json, application/x-www-form-urlencoded "
        "or multipart/form-data."
    ),
    "too_large": "The request is too large (at most {limit} bytes).",
    "bad_length": "The Content-Length header is not a number.",
    "rate_limited": "Too many sign-ups; try again in {seconds} seconds.",
    "bad_host": "The Host header is not a host name and port.",
    "busy": "Too many sign-ups at the moment; nothing was done. Try again in a minute.",
}

FRENCH: dict[str, str] = {
    "subscribe_title": "Inscription à {name}",
    "subscribe_intro": (
        "Le meilleur de l\u2019actualité de la semaine, chaque semaine dans votre boîte."
    ),
    "email_label": "Adresse e-mail",
    "name_label": "Prénom (facultatif)",
    "sections_legend": "Vos rubriques",
    "sections_hint": (
        "Décochez celles qui ne vous intéressent pas ; chaque numéro vous permet de changer d’avis."
    ),
    "honeypot_label": "Ne remplissez pas ce champ",
    "consent": (
        "En vous inscrivant, vous acceptez de recevoir {name} par e-mail. Nous vous envoyons "
        "d\u2019abord un e-mail de confirmation ; chaque envoi contient un lien pour vous "
        "désinscrire à tout moment."
    ),
    "consent_clicks": (
        "Les liens vers les articles passent par notre site\u00a0: nous comptons ceux que "
        "les lecteurs ouvrent."
    ),
    "submit": "Je m\u2019inscris",
    "accepted_title": "Vérifiez votre boîte de réception",
    "accepted": (
        "Si cette adresse peut recevoir {name}, un e-mail de confirmation est en route. "
        "Suivez son lien pour confirmer votre inscription."
    ),
    "confirm_title": "Confirmez votre inscription à {name}",
    "confirm_intro": (
        "Appuyez sur le bouton pour confirmer que vous souhaitez recevoir {name} par e-mail."
    ),
    "confirm_button": "Je confirme mon inscription",
    "confirmed_title": "Inscription confirmée",
    "confirmed": "Bienvenue ! Vous recevrez {name} dès le prochain numéro.",
    "already_confirmed": "Cette inscription était déjà confirmée. Merci !",
    "link_invalid_title": "Ce lien ne fonctionne pas",
    "link_invalid": (
        "Ce lien est invalide ou a été modifié. Inscrivez-vous à nouveau pour en recevoir un autre."
    ),
    "link_expired": "Ce lien a expiré. Inscrivez-vous à nouveau pour en recevoir un autre.",
    "preferences_title": "Vos rubriques de {name}",
    "preferences_intro": "Les rubriques que vous recevez",
    "preferences_hint": (
        "Ne cochez rien, ou tout, pour recevoir toutes les rubriques, y compris les nouvelles."
    ),
    "preferences_button": "Enregistrer",
    "preferences_saved": "Votre choix est enregistré.",
    "preferences_none": "Cette lettre n’a pas de rubriques à choisir.",
    "preferences_leave": "Vous préférez ne plus rien recevoir\u00a0?",
    "unsubscribe_title": "Se désinscrire de {name}",
    "unsubscribe_intro": "Appuyez sur le bouton pour ne plus recevoir {name}.",
    "unsubscribe_button": "Me désinscrire",
    "unsubscribed_title": "Vous êtes désinscrit·e",
    "resubscribe": "Me réinscrire",
    "error_title": "Quelque chose ne va pas",
    "address_control": (
        "Une adresse e-mail ne peut pas contenir de retour à la ligne ni de caractère de contrôle."
    ),
    "address_empty": "Indiquez votre adresse e-mail.",
    "address_too_long": "Une adresse e-mail fait 320 caractères au plus.",
    "address_no_at": "Il manque le « @ » : une adresse s’écrit comme jean.dupont@exemple.fr.",
    "address_no_local": (
        "Il manque le début de l’adresse, avant le « @ » (comme jean.dupont@exemple.fr)."
    ),
    "address_no_domain": (
        "Il manque la fin de l’adresse, après le « @ » : le domaine, comme exemple.fr."
    ),
    "address_bad_local": (
        "La partie avant le « @ » contient des caractères qu’une adresse ne peut pas avoir."
    ),
    "address_non_ascii_local": (
        "Les accents et autres lettres non latines ne sont pas acceptés avant le « @ » : "
        "nos envois ne pourraient pas atteindre cette adresse."
    ),
    "address_bad_domain": (
        "La partie après le « @ » n’est pas un nom de domaine comme exemple.fr."
    ),
    "address_syntax": "Ce n’est pas une adresse e-mail comme jean.dupont@exemple.fr.",
    "address_role": (
        "Les adresses partagées (contact@, info@…) ne sont pas acceptées : "
        "utilisez une adresse personnelle."
    ),
    "address_disposable": (
        "Les adresses jetables ne sont pas acceptées : utilisez une adresse que vous gardez."
    ),
    "address_name_lines": "Le prénom doit tenir sur une ligne.",
    "address_name_control": "Le prénom ne peut pas contenir de caractère de contrôle.",
    "address_date": "consent_at doit être une date passée, écrite AAAA-MM-JJ.",
    "address_suppressed": (
        "Effacée à la demande de son titulaire : seule sa propre inscription peut la rétablir."
    ),
    "address_unsubscribed": "Désinscrite : réimportée seulement si vous cochez « réinscrire ».",
    "address_bounced": "En échec : réimportée seulement si vous cochez « réinscrire ».",
    "address_complained": (
        "A signalé la lettre comme spam : seule sa propre inscription peut la rétablir."
    ),
    "masked_address": "Adresse concernée : {address}",
    "unsubscribe_done": (
        "L\u2019adresse {address} est désinscrite : elle ne recevra plus {name}. Vous pouvez "
        "vous réinscrire à tout moment."
    ),
    "archive_link": "Lire les numéros déjà parus",
    "latest_link": "Lire le dernier numéro : {subject}",
    "archive_title": "Les numéros de {name}",
    "missing_email": "Une adresse e-mail est nécessaire (champ « email »).",
    "bad_field": "Le champ « {field} » doit être du texte.",
    "bad_sections": "Le champ « sections » doit être une liste de noms de rubriques.",
    "bad_consent_version": (
        "Le champ « consent_version » doit tenir en {limit} caractères au plus, sans "
        "caractère de contrôle."
    ),
    "honeypot": (
        "Ce formulaire a été rempli par un programme, pas par une personne ; "
        "rien n\u2019a été fait."
    ),
    "bad_json": "Le corps de la requête n\u2019est pas du JSON valide : {reason}",
    "not_an_object": ('Le corps doit être un objet JSON comme {{"email": "ada@example.org"}}.'),
    "bad_form": "Les données du formulaire sont illisibles.",
    "unsupported_type": (
        "Envoyez l\u2019inscription en application/json, application/x-www-form-urlencoded "
        "ou multipart/form-data."
    ),
    "too_large": "La requête est trop grande ({limit} octets au plus).",
    "bad_length": "L\u2019en-tête Content-Length n\u2019est pas un nombre.",
    "rate_limited": "Trop d\u2019inscriptions ; réessayez dans {seconds} secondes.",
    "bad_host": "L\u2019en-tête Host n\u2019est pas un nom d\u2019hôte suivi d\u2019un port.",
    "busy": (
        "Trop d\u2019inscriptions en ce moment ; rien n\u2019a été fait. Réessayez dans une minute."
    ),
}

CATALOGUE: dict[str, dict[str, str]] = {"en": ENGLISH, "fr": FRENCH}


class Messages:
    """Messages of one language; `lang` is the language actually used (for `<html lang>`)."""

    def __init__(self, language: str, newsletter_name: str) -> None:
        primary = language.lower().split("-")[0]
        self.lang = primary if primary in CATALOGUE else "en"
        self._table = CATALOGUE[self.lang]
        self.newsletter_name = newsletter_name

    def __call__(self, key: str, **values: Any) -> str:
        template = self._table.get(key) or ENGLISH[key]
        return template.format(name=self.newsletter_name, **values)
