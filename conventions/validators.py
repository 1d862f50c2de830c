"""Field validators for the parties: SIRET (python-stdnum), email domains."""

import re

from django.core.exceptions import ValidationError
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_siret(value: str) -> str:
    return siret.compact(value or "")


def validate_siret(value: str) -> None:
    try:
        siret.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            "Le numéro SIRET « %(value)s » n'est pas valide : il doit compter 14 chiffres "
            "et sa clé de contrôle doit être juste.",
            code="invalid_siret",
            params={"value": value},
        ) from exc


def validate_email_domain(value: str) -> None:
    if not DOMAIN_RE.match(value):
        raise ValidationError(
            "« %(value)s » n'est pas un nom de domaine valide (exemple : ccas-wattrelos.fr).",
            code="invalid_domain",
            params={"value": value},
        )
