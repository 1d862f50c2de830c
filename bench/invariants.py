"""The rules the bench data must hold, checked on the database (any size): `manage.py bench_data --check-only`.

PostgreSQL already holds the constraints it enforces (checks, unique, foreign keys). Here: the rules the models
check in Python or across tables, each as one query counting the rows that break it, then `full_clean()` (field
validators and every constraint, through the model) on a sample of each table, and the nightly jobs in dry-run:
a consistent data set leaves them nothing to do.
"""

import re

from django.db import connection
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import cgu
from accounts.models import CGUAcceptance, User
from conventions.models import Caisse, ConventionMetier, ConventionUtilisation, DomaineEmail, Partenaire, Referent
from core.text import fold
from portal.jobs import BY_NAME
from requests_app.models import Demande, DemandeChange, Message, PieceJointe

REFERENCE = re.compile(r"EP-\d{2}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")
OCCUPYING = "('invite', 'actif')"
IN_FORCE = (
    "m.status = 'en_vigueur' AND m.start_date <= %(today)s AND (m.end_date IS NULL OR m.end_date >= %(today)s) "
    "AND u.status = 'en_vigueur' AND u.signed_on <= %(today)s"
)

# (rule, SQL counting the rows that break it)
QUERIES = {
    "A2-A4 quotas des gestionnaires et techniciens": "SELECT count(*) FROM conventions_partenaire p WHERE "
    "(SELECT count(*) FROM accounts_user a WHERE a.partenaire_id = p.id AND a.profile = 'gestionnaire' AND "
    f"a.state IN {OCCUPYING}) > CASE WHEN p.member_count <= 10 THEN 2 WHEN p.member_count <= 25 THEN 3 ELSE 5 END "
    "OR (SELECT count(*) FROM accounts_user a WHERE a.partenaire_id = p.id AND a.profile = 'technicien' AND "
    f"a.state IN {OCCUPYING}) > CASE WHEN p.member_count <= 10 THEN 5 WHEN p.member_count <= 25 THEN 15 ELSE 25 END",
    "A11 au moins un gestionnaire actif là où il y a des comptes": "SELECT count(DISTINCT a.partenaire_id) FROM "
    f"accounts_user a WHERE a.state IN {OCCUPYING} AND NOT EXISTS (SELECT 1 FROM accounts_user g WHERE "
    "g.partenaire_id = a.partenaire_id AND g.profile = 'gestionnaire' AND g.state = 'actif')",
    "A11 technicien rattaché à un gestionnaire de sa structure": "SELECT count(*) FROM accounts_user t JOIN "
    "accounts_user g ON g.id = t.attached_to_id WHERE g.partenaire_id <> t.partenaire_id OR g.profile <> "
    "'gestionnaire'",
    "A14 pas de compte en service sans convention en vigueur": "SELECT count(*) FROM accounts_user a WHERE "
    f"a.state IN {OCCUPYING} AND a.partenaire_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
    "conventions_conventionmetier m JOIN conventions_conventionutilisation u ON u.convention_metier_id = m.id "
    f"WHERE m.partenaire_id = a.partenaire_id AND {IN_FORCE})",
    "A15 comptes supprimés anonymes": "SELECT count(*) FROM accounts_user WHERE state = 'supprime' AND "
    "(last_name <> '' OR first_name <> '' OR email <> '' OR phone <> '' OR username NOT LIKE 'compte-supprime-%%')",
    "A8 CGU acceptées par les comptes actifs des partenaires": "SELECT count(*) FROM accounts_user a WHERE "
    "a.state = 'actif' AND a.partenaire_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts_cguacceptance c "
    "WHERE c.user_id = a.id AND c.cgu_id = %(cgu)s)",
    "C4 convention d'utilisation dans la durée de la convention métier": "SELECT count(*) FROM "
    "conventions_conventionutilisation u JOIN conventions_conventionmetier m ON m.id = u.convention_metier_id WHERE "
    "u.signed_on < m.start_date OR u.signed_on > coalesce(m.end_date, u.signed_on) OR u.status <> m.status "
    "OR u.ended_on IS DISTINCT FROM m.ended_on",
    "C4 conventions échues terminées": "SELECT count(*) FROM conventions_conventionmetier WHERE status = "
    "'en_vigueur' AND end_date < %(today)s",
    "D2 demande déposée par un technicien de la structure": "SELECT count(*) FROM requests_app_demande d JOIN "
    "accounts_user a ON a.id = d.filed_by_id WHERE a.partenaire_id <> d.partenaire_id OR a.profile <> 'technicien'",
    "D2/D9 demande à une caisse conventionnée": "SELECT count(*) FROM requests_app_demande d WHERE NOT EXISTS "
    "(SELECT 1 FROM conventions_conventionmetier m WHERE m.partenaire_id = d.partenaire_id AND m.caisse_id = "
    "d.caisse_id AND m.start_date <= (d.created_at AT TIME ZONE 'Europe/Paris')::date AND (m.ended_on IS NULL OR "
    "m.ended_on >= (d.created_at AT TIME ZONE 'Europe/Paris')::date))",
    "D7 agent en charge de la caisse de la demande": "SELECT count(*) FROM requests_app_demande d JOIN "
    "accounts_user a ON a.id = d.assigned_to_id WHERE a.caisse_id <> d.caisse_id OR a.profile <> 'agent'",
    "D7 historique des états cohérent avec l'état": "SELECT count(*) FROM requests_app_demande d LEFT JOIN LATERAL "
    "(SELECT s.new_value AS to_state, s.at FROM requests_app_demandechange s "
    "WHERE s.demande_id = d.id AND s.field = 'state' ORDER BY s.at DESC, "
    "s.id DESC LIMIT 1) last ON true WHERE last.to_state IS DISTINCT FROM d.state OR last.at <> d.state_changed_at",
    "D7 premier état « envoyée » par l'auteur": "SELECT count(*) FROM requests_app_demande d LEFT JOIN LATERAL "
    "(SELECT s.old_value AS from_state, s.new_value AS to_state, s.by_id FROM requests_app_demandechange s "
    "WHERE s.demande_id = d.id AND s.field = 'state' ORDER BY "
    "s.at, s.id LIMIT 1) first ON true WHERE first.to_state IS DISTINCT FROM 'envoyee' OR first.from_state <> '' "
    "OR first.by_id <> d.filed_by_id",
    "D7 premier message du technicien": "SELECT count(*) FROM requests_app_demande d WHERE NOT EXISTS (SELECT 1 "
    "FROM requests_app_message m WHERE m.demande_id = d.id AND m.side = 'partenaire' AND m.author_id = "
    "d.filed_by_id AND m.created_at = d.created_at)",
    "D6 envoi à la structure seulement si habilitée": "SELECT count(*) FROM requests_app_demande d JOIN "
    "conventions_partenaire p ON p.id = d.partenaire_id WHERE d.delivery = 'partenaire' AND NOT "
    "p.can_receive_documents",
}


def _count(sql: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _sample(model, size: int):
    """Rows spread over the table (every k-th id), not only the first ones."""
    ids = list(model.objects.order_by("pk").values_list("pk", flat=True))
    step = max(1, len(ids) // size)
    return model.objects.filter(pk__in=ids[::step][:size])


def _full_clean_failures(model, size: int, exclude=()) -> list[str]:
    failures = []
    for obj in _sample(model, size):
        try:
            obj.full_clean(exclude=list(exclude))
        except Exception as exc:  # ValidationError: the rule and the row, for the report
            failures.append(f"{model.__name__} {obj.pk} : {exc}")
    return failures


def check(sample: int = 100) -> dict[str, list[str]]:
    """Every rule with the rows that break it (an empty list: the rule holds)."""
    today = timezone.localdate()
    current = cgu.current_cgu()
    params = {"today": today, "cgu": current.pk if current else 0}
    results = {}
    for rule, sql in QUERIES.items():
        count = _count(sql, params)
        results[rule] = [f"{count} ligne(s)"] if count else []
    results["D7 références au format EP-AA-XXXX-XXXX"] = [
        ref for ref in _sample(Demande, 1000).values_list("reference", flat=True) if not REFERENCE.fullmatch(ref)
    ]
    results["D8 texte de recherche plié (référence, nom, prénom)"] = [
        d.reference
        for d in _sample(Demande, 1000)
        if d.search_text != fold(f"{d.reference} {d.assure_last_name} {d.assure_first_name}")[:400]
    ]
    # The nightly jobs find nothing to do on consistent data (C4, A14, A15, A11's scheduled inactivations).
    for name in ("fin_conventions", "comptes_sans_convention", "inactivations_programmees", "suppression_comptes"):
        left = BY_NAME[name].run(dry_run=True)
        results[f"tâche {name} : rien à faire"] = [f"{left} ligne(s) à traiter"] if left else []
    known = User.objects.filter(username__startswith="bench.")
    results["comptes du banc : actifs, TOTP confirmé, CGU acceptées"] = [
        user.username
        for user in known
        if not (
            user.is_active
            and user.has_usable_password()
            and TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            and (not user.is_partner or CGUAcceptance.objects.filter(user=user, cgu=current).exists())
        )
    ]
    clean = []
    for model in (Caisse, Referent, ConventionMetier, ConventionUtilisation, DomaineEmail, Partenaire):
        clean += _full_clean_failures(model, sample)
    clean += _full_clean_failures(User, sample * 3)
    clean += _full_clean_failures(Demande, sample, exclude=["form_token"])  # as submit_demande does
    for model in (Message, DemandeChange, PieceJointe):
        clean += _full_clean_failures(model, sample)
    results["full_clean() sur un échantillon de chaque table"] = clean
    return results


def report(*, log=print, sample: int = 100) -> list[str]:
    """Print each rule with its result; return the rules that fail."""
    failures = []
    for rule, problems in check(sample).items():
        log(f"  {'ok ' if not problems else 'NON'} {rule}{' : ' + '; '.join(problems[:5]) if problems else ''}")
        if problems:
            failures.append(rule)
    return failures
