"""Professional email addresses (A9): one of the partner's domains, never a consumer webmail."""

from django.core.exceptions import ValidationError

# Consumer webmails seen in France; an account address must belong to the structure.
CONSUMER_WEBMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.fr",
        "yahoo.com",
        "ymail.com",
        "hotmail.fr",
        "hotmail.com",
        "live.fr",
        "live.com",
        "outlook.fr",
        "outlook.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "neuf.fr",
        "bbox.fr",
        "laposte.net",
        "aol.com",
        "aol.fr",
        "gmx.fr",
        "gmx.com",
        "gmx.de",
        "proton.me",
        "protonmail.com",
        "tutanota.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "mail.com",
        "numericable.fr",
        "club-internet.fr",
        "aliceadsl.fr",
        "tele2.fr",
    }
)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def validate_professional_email(email: str, partenaire) -> None:
    domain = email_domain(email)
    if domain in CONSUMER_WEBMAIL_DOMAINS:
        raise ValidationError(
            f"« {domain} » est une messagerie personnelle : indiquez l'adresse professionnelle fournie par "
            "la structure (article 2.2.1 de la convention).",
            code="consumer_webmail",
        )
    allowed = sorted(d.domain for d in partenaire.email_domains.all())
    if domain not in allowed:
        listed = ", ".join(allowed) if allowed else "aucun domaine déclaré : demandez à votre caisse d'en ajouter un"
        raise ValidationError(
            f"L'adresse doit appartenir à un domaine professionnel de {partenaire.name} ({listed}).",
            code="foreign_domain",
        )
