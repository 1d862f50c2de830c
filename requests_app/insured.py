"""The insured person (D3): civilité, nom, prénom, date de naissance, département — never the NIR."""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

# Départements of residence: 01–95 with Corsica as 2A/2B (no "20"), and the overseas 971–976.
DEPARTEMENTS = (
    [f"{n:02d}" for n in range(1, 20)]
    + ["2A", "2B"]
    + [f"{n:02d}" for n in range(21, 96)]
    + [str(n) for n in range(971, 977)]
)
DEPARTEMENT_CHOICES = [(code, code) for code in DEPARTEMENTS]


def normalize_departement(value: str) -> str:
    value = (value or "").strip().upper()
    return value.zfill(2) if value.isdigit() and len(value) == 1 else value


def validate_departement(value: str) -> None:
    if normalize_departement(value) not in DEPARTEMENTS:
        raise ValidationError(
            f"« {value} » n'est pas un département : indiquez 01 à 95, 2A ou 2B pour la Corse, "
            "ou 971 à 976 pour l'outre-mer.",
            code="invalid_departement",
        )


def validate_birth_date(value: date) -> None:
    if value > timezone.localdate():
        raise ValidationError("La date de naissance ne peut pas être dans le futur.", code="future")
    if value.year < 1900:
        raise ValidationError("Vérifiez l'année de naissance : elle est antérieure à 1900.", code="too_old")
