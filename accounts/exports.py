"""The habilitation table (A16): one definition for the gestionnaire's page, its CSV and the back-office."""

from django.utils import timezone

from core.csv_export import csv_response

from .models import AccountState, User


def structure_accounts(partenaire):
    """The habilitation table (A16): every account not deleted, with who created it."""
    return (
        User.objects.filter(partenaire=partenaire)
        .exclude(state=AccountState.SUPPRIME)
        .select_related("created_by", "attached_to")
        .order_by("profile", "last_name", "first_name")
    )


def habilitation_table_csv(partenaire):
    """A16: the structure's accounts, for the gestionnaire and for the caisse's back-office alike."""
    header = [
        "Identifiant",
        "Civilité",
        "Nom",
        "Prénom",
        "Fonction",
        "Email",
        "Profil",
        "État",
        "Créé par",
        "Créé le",
        "Dernière connexion",
        "Inactivé le",
        "Motif d'inactivation",
    ]

    def when(moment, fmt="%d/%m/%Y %H:%M"):
        return timezone.localtime(moment).strftime(fmt) if moment else ""

    rows = (
        [
            account.username,
            account.get_civilite_display(),
            account.last_name,
            account.first_name,
            account.job_title,
            account.email,
            account.get_profile_display(),
            account.get_state_display(),
            account.created_by.get_full_name() if account.created_by else "Caisse",
            when(account.date_joined),
            when(account.last_login),
            when(account.inactivated_at, "%d/%m/%Y"),
            account.get_inactivation_reason_display(),
        ]
        for account in structure_accounts(partenaire)
    )
    return csv_response(f"habilitations-{timezone.localdate().isoformat()}.csv", header, rows)
