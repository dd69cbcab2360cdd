"""The desk's words: state names, and the messages shown after a redirect, by code."""

from __future__ import annotations

from newsletter.domain.model import IssueState, SubscriberStatus

ISSUE_STATES = {
    IssueState.DRAFT: "Brouillon",
    IssueState.SCHEDULED: "Programmé",
    IssueState.SENDING: "Envoi en cours",
    IssueState.SENT: "Envoyé",
    IssueState.CANCELED: "Annulé",
}
SUBSCRIBER_STATES = {
    SubscriberStatus.PENDING: "En attente de confirmation",
    SubscriberStatus.ACTIVE: "Actif",
    SubscriberStatus.UNSUBSCRIBED: "Désinscrit",
    SubscriberStatus.BOUNCED: "Adresse en échec",
    SubscriberStatus.COMPLAINED: "Signalé comme spam",
}
# Messages shown after a redirect, by code: nothing from the query string is shown as is.
NOTICES = {
    "saved": "Modifications enregistrées.",
    "added": "Article ajouté au numéro.",
    "dismissed": "Article écarté de la boîte de réception.",
    "restored": "Article rétabli.",
    "scheduled": "Numéro programmé.",
    "unscheduled": "Programmation annulée : le numéro est redevenu un brouillon.",
    "sending": "Envoi demandé.",
    "canceled": "Numéro annulé.",
    "reopened": "Numéro rouvert comme brouillon.",
    "tested": "Copie de test envoyée.",
    "tested_many": "Copies de test envoyées.",
    "drafted": "Nouveau brouillon créé.",
    "opened": "Un brouillon est déjà ouvert : le voici (un seul brouillon à la fois).",
    "loggedout": "Vous êtes déconnecté·e.",
    "subscribed": "Abonné ajouté.",
    "known": "Cette adresse est déjà inscrite : rien n’a changé.",
}
PROBLEMS = {
    "state": "Cette action n’est pas possible dans l’état actuel du numéro.",
    "empty": "Le numéro ne contient aucun article.",
    "past": "Cette date est passée : choisissez une date future ou « Envoyer maintenant ».",
    "when": "Date ou heure invalide.",
    "address": "Adresse e-mail invalide pour la copie de test (10 adresses au plus) : "
    "aucune copie n’est partie.",
    "provider": "Le fournisseur d’e-mail a refusé la copie de test.",
    "nodraft": "Aucun brouillon ouvert : créez-en un depuis le tableau de bord.",
    "nothing": "Aucun article sélectionné.",
    "confirm": "Cochez la case de confirmation pour envoyer.",
    "render": "L’e-mail n’a pas pu être généré (voir les journaux).",
    "subscriber": "Adresse e-mail invalide : l’abonné n’a pas été ajouté.",
    "erased": "Cette adresse a été effacée à la demande de son titulaire : seule sa propre "
    "inscription peut la rétablir.",
}
