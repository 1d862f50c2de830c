"""The accounts' entries in the catalogue of personal data (A15), with the third-party models this app brings
(authentication: sessions, lockout, second factor, object permissions), and `person_of`, which gathers what
identifies the accounts of a purge batch before anything is erased."""

from functools import lru_cache

from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Cast, Concat, Lower
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.models import UserObjectPermission

from core.personal_data import (
    Entry,
    Person,
    Treatment,
    delete_rows,
    history_model_entries,
    register,
    scrub,
    set_values,
)
from core.security import lockout_username

from .models import (
    CGU,
    AccountIncident,
    AccountState,
    AccountToken,
    CGUAcceptance,
    GestionnaireRequest,
    HabilitationRequest,
    PasswordHistory,
    User,
)

IDENTITY = ("username", "email", "first_name", "last_name", "phone")


def person_of(ids: list[int]) -> Person:
    """Every value that identified these accounts: now, in their history, in the requests about them. A handful
    of queries whatever the number of accounts."""
    rows = [
        *User.objects.filter(pk__any=ids).values(*IDENTITY),
        *User.history.filter(id__any=ids).values(*IDENTITY).distinct(),
        *HabilitationRequest.objects.filter(account_id__any=ids).values("email", "first_name", "last_name", "phone"),
    ]
    changes = GestionnaireRequest.objects.filter(target_id__any=ids)
    emails, usernames, names, phones, full_names = set(), set(), set(), set(), set()
    for row in rows:
        emails.add(row.get("email") or "")
        usernames.add(row.get("username") or "")
        phones.add(row.get("phone") or "")
        first, last = row.get("first_name") or "", row.get("last_name") or ""
        names.update({first, last})
        if first and last:
            full_names.update({f"{first} {last}", f"{last} {first}"})
    firsts = {row.get("first_name") for row in rows if row.get("first_name")}
    for new_last, new_email, new_phone in changes.values_list("new_last_name", "new_email", "new_phone"):
        emails.add(new_email)
        phones.add(new_phone)
        names.add(new_last)
        if new_last:
            full_names.update({f"{first} {new_last}" for first in firsts} | {f"{new_last} {first}" for first in firsts})
    blank = {"", None}
    return Person(
        ids=tuple(ids),
        emails=frozenset(emails - blank),
        usernames=frozenset(usernames - blank),
        names=frozenset(names - blank),
        phones=frozenset(phones - blank),
        full_names=frozenset(full_names - blank),
    )


# --- The account itself and its history ---------------------------------------------------------------


def _anonymize_accounts(person: Person) -> int:
    pk_text = Cast("pk", output_field=models.CharField())
    return User.objects.filter(pk__any=person.ids).update(
        username=Concat(Value("compte-supprime-"), pk_text),
        civilite="",
        last_name="",
        first_name="",
        job_title="",
        phone="",
        email="",
        inactivation_comment="",
        # What set_unusable_password() writes ("!" and random), made distinct per account by its number.
        password=Concat(Value(make_password(None)), pk_text),
        state=AccountState.SUPPRIME,
        state_changed_at=timezone.now(),
    )


def _of_accounts(model, lookup="user_id"):
    return lambda person: model.objects.filter(**{f"{lookup}__any": person.ids})


def _habilitation_requests(person: Person):
    emails = {email.lower() for email in person.emails}
    return HabilitationRequest.objects.annotate(email_lower=Lower("email")).filter(
        Q(account_id__any=person.ids) | Q(email_lower__any=sorted(emails))
    )


def _live_sessions_and_expired(person: Person):
    """Expired sessions (every session of an account purged 6 months after its inactivation is), and the live
    ones of the accounts, found by decoding the live sessions (a few: one per signed-in user)."""
    now = timezone.now()
    wanted = {str(pk) for pk in person.ids}
    live = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=now)
        if session.get_decoded().get("_auth_user_id") in wanted
    ]
    return Session.objects.filter(Q(expire_date__lte=now) | Q(pk__in=live))


@lru_cache(maxsize=1)  # the four axes entries of one batch: the keyed hashes once
def _lockout_keys(person: Person) -> frozenset[str]:
    """axes keeps a keyed hash of what was typed as identifier (core.security.lockout_username)."""
    identifiers = (*person.usernames, *person.emails)
    typed = {*identifiers, *(value.lower() for value in identifiers), *(value.upper() for value in identifiers)}
    return frozenset(lockout_username(None, {"username": value}) for value in typed)


def _of_lockout(model, lookup="username", at="attempt_time"):
    """The rows of the accounts' identifiers, and every row past the cool-off: it counts for no lockout any more
    and may be the account's under a spelling of its identifier no hash can guess (another case)."""

    def rows(person: Person):
        stale = timezone.now() - settings.AXES_COOLOFF_TIME
        return model.objects.filter(Q(**{f"{lookup}__any": sorted(_lockout_keys(person))}) | Q(**{f"{at}__lt": stale}))

    return rows


ACCOUNT = "le compte"
ITS_ROWS = "les lignes du compte"
ANONYMIZED = "renvoie au compte, devenu « compte-supprime-N » : les demandes et actes restent attribués"

register(
    # Third-party rows first (some point to the account's rows deleted below).
    Entry(
        "otp_static.StaticToken",
        ("*",),
        Treatment.DELETE_ROWS,
        "codes de secours du compte",
        apply=delete_rows(lambda person: StaticToken.objects.filter(device__user_id__any=person.ids)),
    ),
    Entry(
        "otp_static.StaticDevice",
        ("*",),
        Treatment.DELETE_ROWS,
        ITS_ROWS,
        apply=delete_rows(_of_accounts(StaticDevice)),
    ),
    Entry("otp_totp.TOTPDevice", ("*",), Treatment.DELETE_ROWS, ITS_ROWS, apply=delete_rows(_of_accounts(TOTPDevice))),
    Entry(
        "accounts.User_groups",
        ("*",),
        Treatment.DELETE_ROWS,
        ITS_ROWS,
        apply=delete_rows(_of_accounts(User.groups.through)),
    ),
    Entry(
        "accounts.User_user_permissions",
        ("*",),
        Treatment.DELETE_ROWS,
        ITS_ROWS,
        apply=delete_rows(_of_accounts(User.user_permissions.through)),
    ),
    Entry(
        "guardian.UserObjectPermission",
        ("*",),
        Treatment.DELETE_ROWS,
        ITS_ROWS,
        apply=delete_rows(_of_accounts(UserObjectPermission)),
    ),
    Entry(
        "sessions.Session",
        ("*",),
        Treatment.DELETE_ROWS,
        "les sessions du compte et toutes les sessions expirées",
        apply=delete_rows(_live_sessions_and_expired),
    ),
    Entry(
        "axes.AccessAttemptExpiration",
        ("*",),
        Treatment.DELETE_ROWS,
        "celles des échecs ci-dessous",
        apply=delete_rows(
            _of_lockout(AccessAttemptExpiration, "access_attempt__username", "access_attempt__attempt_time")
        ),
    ),
    Entry(
        "axes.AccessAttempt",
        ("*",),
        Treatment.DELETE_ROWS,
        "les échecs de connexion sur l'identifiant ou l'email du compte (adresse IP, navigateur), et tous ceux "
        "passés le délai de blocage",
        apply=delete_rows(_of_lockout(AccessAttempt)),
    ),
    Entry(
        "axes.AccessLog",
        ("*",),
        Treatment.DELETE_ROWS,
        "les connexions du compte (journal d'axes, désactivé)",
        apply=delete_rows(_of_lockout(AccessLog)),
    ),
    Entry(
        "axes.AccessFailureLog",
        ("*",),
        Treatment.DELETE_ROWS,
        "les échecs du compte (journal d'axes, désactivé)",
        apply=delete_rows(_of_lockout(AccessFailureLog)),
    ),
    # The portal's account rows.
    Entry(
        "accounts.PasswordHistory",
        ("*",),
        Treatment.DELETE_ROWS,
        ITS_ROWS,
        apply=delete_rows(_of_accounts(PasswordHistory)),
    ),
    Entry(
        "accounts.AccountToken", ("*",), Treatment.DELETE_ROWS, ITS_ROWS, apply=delete_rows(_of_accounts(AccountToken))
    ),
    Entry(
        "accounts.HistoricalUser",
        ("*",),
        Treatment.DELETE_ROWS,
        "l'historique du compte",
        apply=delete_rows(_of_accounts(User.history.model, "id")),
    ),
    Entry(
        "accounts.HistoricalUser",
        ("history_user", "created_by", "attached_to"),
        Treatment.KEEP_REFERENCE,
        "l'historique des autres comptes",
        ANONYMIZED,
    ),
    Entry(
        "accounts.User",
        (
            "username",
            "password",
            "civilite",
            "last_name",
            "first_name",
            "job_title",
            "phone",
            "email",
            "inactivation_comment",
        ),
        Treatment.NEUTRAL,
        "le compte (gardé, anonyme, pour les demandes qu'il a déposées)",
        "identifiant « compte-supprime-N », mot de passe inutilisable, le reste vide ; état « supprimé »",
        apply=_anonymize_accounts,
    ),
    Entry(
        "accounts.User",
        ("inactivation_reason",),
        Treatment.NOT_PERSONAL,
        "le compte",
        "un motif choisi dans une liste (le commentaire libre, lui, est effacé)",
    ),
    Entry("accounts.User", ("created_by", "attached_to"), Treatment.KEEP_REFERENCE, "les autres comptes", ANONYMIZED),
    Entry(
        "accounts.HabilitationRequest",
        ("civilite", "last_name", "first_name", "job_title", "phone", "email"),
        Treatment.ERASE,
        "la demande qui a créé le compte et celles faites à la même adresse email",
        "la demande reste (structure, dates, état), sans l'identité",
        apply=set_values(
            _habilitation_requests, civilite="", last_name="", first_name="", job_title="", phone="", email=""
        ),
    ),
    Entry(
        "accounts.HabilitationRequest",
        ("refusal_reason",),
        Treatment.SCRUB,
        "toutes",
        apply=scrub(HabilitationRequest, ("refusal_reason",)),
    ),
    Entry(
        "accounts.HabilitationRequest",
        ("requested_by", "processed_by", "account"),
        Treatment.KEEP_REFERENCE,
        "toutes",
        ANONYMIZED,
    ),
    Entry(
        "accounts.GestionnaireRequest",
        ("new_last_name", "new_job_title", "new_phone", "new_email"),
        Treatment.ERASE,
        "les demandes de modification du compte",
        apply=set_values(
            _of_accounts(GestionnaireRequest, "target_id"),
            new_last_name="",
            new_job_title="",
            new_phone="",
            new_email="",
        ),
    ),
    Entry(
        "accounts.GestionnaireRequest",
        ("refusal_reason",),
        Treatment.SCRUB,
        "toutes",
        apply=scrub(GestionnaireRequest, ("refusal_reason",)),
    ),
    Entry(
        "accounts.GestionnaireRequest",
        ("target", "requested_by", "processed_by"),
        Treatment.KEEP_REFERENCE,
        "toutes",
        ANONYMIZED,
    ),
    Entry(
        "accounts.AccountIncident",
        ("description", "notified_to", "notification_text"),
        Treatment.ERASE,
        "les signalements sur le compte",
        "le signalement reste (nature, origine, dates), sans les textes",
        apply=set_values(
            _of_accounts(AccountIncident, "account_id"), description="", notified_to="", notification_text=""
        ),
    ),
    Entry(
        "accounts.AccountIncident",
        ("description", "notified_to", "notification_text"),
        Treatment.SCRUB,
        "les autres signalements (le compte les a écrits ou reçus)",
        apply=scrub(AccountIncident, ("description", "notified_to", "notification_text")),
    ),
    Entry(
        "accounts.AccountIncident",
        ("account", "reported_by", "processed_by"),
        Treatment.KEEP_REFERENCE,
        "toutes",
        ANONYMIZED,
    ),
    Entry(
        "accounts.HabilitationReview", ("requested_by", "attested_by"), Treatment.KEEP_REFERENCE, "toutes", ANONYMIZED
    ),
    Entry(
        "accounts.CGUAcceptance",
        ("ip",),
        Treatment.ERASE,
        "les acceptations du compte",
        "l'acceptation reste (version, date), sans l'adresse IP",
        apply=set_values(_of_accounts(CGUAcceptance), ip=None),
    ),
    Entry("accounts.CGUAcceptance", ("user",), Treatment.KEEP_REFERENCE, "toutes", ANONYMIZED),
    Entry("accounts.CGU", ("version", "title", "body"), Treatment.NOT_PERSONAL, "toutes", "le texte des CGU"),
    *history_model_entries(CGU.history.model),
    Entry("auth.Group", ("name",), Treatment.NOT_PERSONAL, "toutes", "un groupe de droits (« Agents de caisse »)"),
    Entry("auth.Permission", ("name", "codename"), Treatment.NOT_PERSONAL, "toutes", "un droit de Django"),
    Entry("contenttypes.ContentType", ("app_label", "model"), Treatment.NOT_PERSONAL, "toutes", "un nom de modèle"),
    Entry(
        "guardian.GroupObjectPermission",
        ("object_pk",),
        Treatment.NOT_PERSONAL,
        "toutes",
        "le numéro d'un objet, pour un groupe",
    ),
)
