"""How many gestionnaire and technicien accounts a partner may hold (A2, A3)."""

from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from .models import OCCUPYING_STATES, Profile, User

# (max member count of the band, gestionnaires, techniciens); the last band has no ceiling.
BANDS = ((10, 2, 5), (25, 3, 15), (None, 5, 25))


@dataclass(frozen=True)
class Quotas:
    gestionnaires: int
    techniciens: int


def quotas_for_member_count(member_count: int) -> Quotas:
    if member_count < 1:
        raise ValueError("member_count must be at least 1")
    for ceiling, gestionnaires, techniciens in BANDS:
        if ceiling is None or member_count <= ceiling:
            return Quotas(gestionnaires, techniciens)
    raise AssertionError("unreachable")


def quotas_for(partenaire) -> Quotas:
    return quotas_for_member_count(partenaire.member_count)


def limit_expression(field: str, member_count_field: str = "member_count"):
    """The same bands as a database expression, to list partners over quota in one query (A4).

    `field` is "gestionnaires" or "techniciens".
    """
    index = {"gestionnaires": 1, "techniciens": 2}[field]
    whens = [
        When(**{f"{member_count_field}__lte": band[0]}, then=Value(band[index]))
        for band in BANDS
        if band[0] is not None
    ]
    return Case(*whens, default=Value(BANDS[-1][index]), output_field=IntegerField())


def partners_over_quota(partenaires: QuerySet) -> QuerySet:
    """A4: the partners of `partenaires` holding more invited or active accounts of a profile than their member
    count allows. One query, counted per partner on the accounts' (partenaire, profile, state) index: a caisse's
    partners, never every account of the country."""

    def used(profile):
        accounts = User.objects.filter(partenaire=OuterRef("pk"), profile=profile, state__in=OCCUPYING_STATES)
        return Coalesce(Subquery(accounts.order_by().values("partenaire").annotate(n=Count("*")).values("n")), 0)

    return partenaires.annotate(
        gestionnaires_used=used(Profile.GESTIONNAIRE), techniciens_used=used(Profile.TECHNICIEN)
    ).filter(
        Q(gestionnaires_used__gt=limit_expression("gestionnaires"))
        | Q(techniciens_used__gt=limit_expression("techniciens"))
    )
