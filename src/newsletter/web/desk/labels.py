"""The desk's words: state names, and the messages shown after a redirect, by code."""

from __future__ import annotations

from newsletter.domain.model import IssueState
from newsletter.domain.readers import SubscriberStatus

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
DELIVERY_STATES = {
    "pending": "En attente",
    "sending": "En cours d’envoi",
    "sent": "Envoyé",
    "failed": "Échec",
    "uncertain": "Incertain",
    "skipped": "Non envoyé",
}
# SendGrid's event names; an unknown one is shown as it came.
EVENT_KINDS = {
    "processed": "Pris en charge",
    "delivered": "Remis",
    "open": "Ouverture",
    "click": "Clic",
    "bounce": "Rebond",
    "dropped": "Rejeté",
    "deferred": "Différé",
    "spamreport": "Signalé comme spam",
    "unsubscribe": "Désinscription",
    "group_unsubscribe": "Désinscription",
}
# Messages shown after a redirect, by code: nothing from the query string is shown as is.
NOTICES = {
    "saved": "Modifications enregistrées.",
    "added": "Article ajouté au numéro.",
    "dismissed": "Sujet écarté de la boîte de réception.",
    "funding": "Levée de fonds corrigée.",
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
    "editor_removed": "Rédacteur supprimé.",
    "role": "Rôle modifié.",
    "password": "Mot de passe enregistré : vous pouvez vous connecter.",
    "edited": "Abonné modifié.",
    "unsubscribed": "Abonné désinscrit : il ne recevra plus rien.",
    "erased": "Abonné effacé : seule une empreinte de son adresse est gardée.",
    "imported": "Import terminé.",
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
    "editor": "Ce nom de rédacteur est vide, trop long ou déjà pris.",
    "lastadmin": "C’est le dernier administrateur : nommez-en un autre d’abord.",
    "csv": "Ce fichier CSV ne peut pas être importé.",
    "name": "Ce nom ne peut pas être utilisé (une ligne, sans caractère de contrôle).",
    "erased": "Cette adresse a été effacée à la demande de son titulaire : seule sa propre "
    "inscription peut la rétablir.",
}
