"""Fuzzing every portal form with hypothesis: never a 500, never a row that breaks a rule.

Each test posts arbitrary values (text with NUL, control characters, bidi marks, 10 000 characters, numbers far
out of range, impossible dates, random files) to one portal page, through the real URL, middleware and
templates, and checks after every example:

- the answer is one a browser can be given (200, 302, 400, 403, 404, 405, 410, 429), never a server error (the
  test client re-raises a view's exception, so a 500 fails with its traceback);
- every row that the example created or changed passes its model's `full_clean()` (fields, validators,
  constraints), and the cross-row rules hold (quotas A2/A3, one active gestionnaire left A11, C4, D5 files
  scanned and referenced, D7 request history, P4 journal append-only).

The world (a caisse, a partner under convention, its accounts, a request) is built inside each test; the
hypothesis examples of one test share its database transaction, so rows accumulate and the rules are checked
on everything the examples touched.

The helpers here (strategies, world, rule checks) are also used by test_fuzz_admin.py and
test_no_personal_data_in_logs.py.
"""

import hashlib
import io
import os
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import magic
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from accounts import invitations
from accounts.models import (
    CGU,
    OCCUPYING_STATES,
    AccountIncident,
    AccountState,
    GestionnaireRequest,
    HabilitationRequest,
    HabilitationReview,
    Profile,
    TokenPurpose,
    User,
)
from accounts.permissions import sync_agent_group
from accounts.quotas import quotas_for
from conventions import access
from conventions.models import (
    Avenant,
    Caisse,
    ConventionMetier,
    ConventionStatus,
    ConventionUtilisation,
    DomaineEmail,
    MiseEnDemeure,
    Partenaire,
    Referent,
)
from core.models import HealthTerm, JournalEntry
from portal.models import DocumentPartenaire, MaintenanceNotice
from requests_app import assistance
from requests_app import services as demande_services
from requests_app.models import Demande, DemandeChange, DemandeKind, Message, PieceJointe, TicketAttachment
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import DomaineEmailFactory, partner_with_access

pytestmark = pytest.mark.django_db

# A browser may be given any of these; never a 5xx.
ALLOWED_STATUSES = frozenset({200, 302, 400, 403, 404, 405, 410, 429})
# Examples per form; FUZZ_EXAMPLES=500 for a longer hunt (the suite's default keeps each file under a minute).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
STRONG_PASSWORD = "Un-Autre-Passe-Solide-7"

# In CI the examples are the same at every run (derandomize): a red build is reproducible and never depends on
# luck; on a developer's machine each run draws new ones (and replays the failures it saved) to find new bugs.
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=IN_CI,
    database=None if IN_CI else settings.default.database,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)


def fuzz(strategy, check, max_examples: int | None = None):
    """Run `check(example)` on examples of `strategy` (hypothesis inside a pytest-django test: the fixtures are
    built once, the examples share the test's transaction)."""

    @settings(FUZZ_SETTINGS, max_examples=max_examples or EXAMPLES)
    @given(strategy)
    def run(example):
        check(example)

    # One key per pytest test in hypothesis' example database: a failing example is replayed by its own test.
    test_id = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
    run.hypothesis.inner_test._hypothesis_internal_add_digest = test_id.encode()
    run()


# --- Strategies -------------------------------------------------------------------------------------------

VALID_NIR = "2 91 07 75 123 456 52"  # a NIR with a valid key (spaces as people type it)
SPECIAL_TEXTS = [
    "",
    " ",
    "\x00",
    "avant\x00après",
    "\x01\x02\x1b[31m\x7f",
    "\t\r\n\v\f",
    "\u202etxt.exe\u202c",  # right-to-left override
    "\u200f\u200e\u061c",  # RTL / LTR / Arabic letter marks
    "\ufeff\u200b\u2028\u2029",  # BOM, zero-width space, line and paragraph separators
    "e\u0301\u0301\u0301\u0301",  # stacked combining accents
    "𝕋é𝕤𝕥 😀 \U0010fffd",
    "x" * 10_000,
    "é" * 10_001,
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "'; DROP TABLE accounts_user; --",
    "{{ 7*7 }} {% debug %}",
    "%s%s%s%n",
    "../../../../etc/passwd",
    '=HYPERLINK("http://x")',
    "NaN",
    "-1",
    "9" * 60,
    VALID_NIR,
    "cancer du poumon",
]

text_noise = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200)
control_noise = st.text(alphabet=st.characters(max_codepoint=0x3F), max_size=50)
long_noise = st.builds(lambda chunk, times: chunk * times, st.text(min_size=1, max_size=3), st.integers(2000, 5000))
hostile_text = st.one_of(st.sampled_from(SPECIAL_TEXTS), text_noise, control_noise, long_noise)

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["0", "-0", "1e309", "NaN", "inf", "0x10", " 12 ", "١٢", "12,5", "2147483648", "-2147483649"]),
)

SPECIAL_DATES = [
    "2024-02-30",
    "31/02/2024",
    "2023-02-29",
    "0000-00-00",
    "0001-01-01",
    "01/01/0001",
    "9999-12-31",
    "31/12/9999",
    "99999-01-01",
    "2024-13-01",
    "2024-00-10",
    "1/1/1",
    "1899-12-31",
    "1900-01-01",
    "-2024-01-01",
    "2024-01-01T00:00",
    "aujourd'hui",
]
dates = st.one_of(
    st.dates().map(date.isoformat),
    st.dates().map(lambda d: f"{d.day:02d}/{d.month:02d}/{d.year:04d}"),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)).map(date.isoformat),
    st.sampled_from(SPECIAL_DATES),
    text_noise,
)
SPECIAL_DATETIMES = [
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "2024-02-30T10:00",
    "2030-01-01T24:00",
    "2030-01-01T23:60",
    "2030-03-31T02:30",  # does not exist in Paris (spring forward)
    "2030-10-27T02:30",  # exists twice in Paris (fall back)
    "2030-01-01 10:00:00.999999999",
    "2030-01-01T10:00+14:00",
]
datetimes = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    st.datetimes(
        min_value=timezone.now().replace(tzinfo=None),
        max_value=timezone.now().replace(tzinfo=None) + timedelta(days=3650),
    ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    st.sampled_from(SPECIAL_DATETIMES + SPECIAL_DATES),
    text_noise,
)


def choice_or_noise(values):
    return st.one_of(st.sampled_from(list(values)), hostile_text, numbers)


@st.composite
def random_upload(draw):
    """A file as a browser sends it: random bytes or a real document under a random (often hostile) name."""
    name = draw(
        st.one_of(
            st.sampled_from(["a.pdf", "photo.JPG", "scan.png", "../../x.pdf", "x" * 300 + ".pdf", ".pdf", "f"]),
            st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=60),
        )
    )
    data = draw(st.one_of(st.binary(max_size=4096), st.sampled_from([b"", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n"])))
    if draw(st.booleans()) and draw(st.booleans()):
        data = tiny_pdf()
    if os.path.basename(name) in {"", ".", ".."}:
        name = "sans-nom"  # a name a browser cannot send (Django's test client refuses it too)
    return SimpleUploadedFile(
        name, data, content_type=draw(st.sampled_from(["application/pdf", "text/html", "", "x/y"]))
    )


_TINY_PDF = []


def tiny_pdf() -> bytes:
    if not _TINY_PDF:
        writer = PdfWriter()
        writer.add_blank_page(width=595, height=842)
        buffer = io.BytesIO()
        writer.write(buffer)
        _TINY_PDF.append(buffer.getvalue())
    return _TINY_PDF[0]


def maybe(value_strategy, baseline):
    """Either the valid baseline value (so that the form can pass and reach the services) or fuzz."""
    return st.one_of(st.just(baseline), value_strategy)


# --- The world ------------------------------------------------------------------------------------------------


DOMAIN = "ccas-fuzz.example"


def build_world():
    convention = partner_with_access(can_receive_documents=True, member_count=13)
    partenaire = convention.convention_metier.partenaire
    caisse = convention.convention_metier.caisse
    DomaineEmailFactory(partenaire=partenaire, domain=DOMAIN)
    gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire, email=f"gestion@{DOMAIN}")
    other_gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire, email=f"autre.gestion@{DOMAIN}")
    technicien = UserFactory(partenaire=partenaire, attached_to=gestionnaire, email=f"tech@{DOMAIN}")
    agent = UserFactory(agent=True, caisse=caisse, email="agent@caisse.example")
    agent.groups.add(sync_agent_group())
    demande = demande_services.submit_demande(
        user=technicien,
        caisse=caisse,
        kind=DemandeKind.RENDEZ_VOUS,
        fields={
            "assure_civilite": "mme",
            "assure_last_name": "Dupré",
            "assure_first_name": "Éloïse",
            "assure_birth_date": date(1984, 3, 12),
            "assure_departement": "59",
            "reason": "Ouverture de droits",
            "modality": "telephone",
            "slot_1": timezone.now() + timedelta(days=7),
            "worker_attends": True,
        },
        message="Bonjour",
        form_token=uuid.uuid4(),
    )
    return SimpleNamespace(
        convention=convention,
        partenaire=partenaire,
        caisse=caisse,
        gestionnaire=gestionnaire,
        other_gestionnaire=other_gestionnaire,
        technicien=technicien,
        agent=agent,
        demande=demande,
    )


def signed_in(user) -> Client:
    return verified_login(Client(), user)


class CommittingClient(Client):
    """Each request ends as in production, where it commits: its on_commit callbacks run (emails sent, replaced
    files removed). The examples share the test's transaction, which never commits."""

    def request(self, **request):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


def committed(user) -> CommittingClient:
    return verified_login(CommittingClient(), user)


@pytest.fixture
def world(db, private_media, health_lexicon):
    world = build_world()
    world.media = private_media
    return world


# --- Model rules, checked after every example ---------------------------------------------------------

RULED_MODELS = [
    Caisse,
    Referent,
    Partenaire,
    DomaineEmail,
    ConventionMetier,
    ConventionUtilisation,
    Avenant,
    MiseEnDemeure,
    User,
    HabilitationRequest,
    GestionnaireRequest,
    AccountIncident,
    HabilitationReview,
    CGU,
    Demande,
    Message,
    DemandeChange,
    PieceJointe,
    MaintenanceNotice,
    DocumentPartenaire,
    HealthTerm,
]


def _fingerprints() -> dict:
    """{model: {pk: md5 of the whole row}} for every ruled model, in one query."""
    quote = connection.ops.quote_name
    union = " UNION ALL ".join(
        f"SELECT {index}, t.{quote(model._meta.pk.column)}, md5(t::text) FROM {quote(model._meta.db_table)} t"  # noqa: S608 — model metadata, no input
        for index, model in enumerate(RULED_MODELS)
    )
    rows = {model: {} for model in RULED_MODELS}
    with connection.cursor() as cursor:
        cursor.execute(union)
        for index, pk, digest in cursor.fetchall():
            rows[RULED_MODELS[index]][pk] = digest
    return rows


def snapshot() -> dict:
    """What the rules compare with after an example: the rows' fingerprints, the journal's size, the active
    gestionnaires of each structure."""
    return {"rows": _fingerprints(), "journal": JournalEntry.objects.count(), "gestionnaires": active_gestionnaires()}


def active_gestionnaires() -> dict[int, int]:
    active = Q(accounts__profile=Profile.GESTIONNAIRE, accounts__state=AccountState.ACTIF)
    return dict(Partenaire.objects.annotate(n=Count("accounts", filter=active)).values_list("pk", "n"))


def changed_rows(before: dict):
    after = _fingerprints()
    for model in RULED_MODELS:
        old = before["rows"][model]
        changed = [pk for pk, digest in after[model].items() if old.get(pk) != digest]
        if changed:
            yield from model._base_manager.filter(pk__in=changed)


def rule_violations(before: dict, *, quotas: bool = True, media=None) -> list[str]:
    """Everything that breaks a model rule among the rows changed since `before` (plus cross-row rules)."""
    problems = []
    for obj in changed_rows(before):
        try:
            obj.full_clean()
        except ValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            problems.append(f"{obj._meta.label} {obj.pk}: {detail}")
    if JournalEntry.objects.count() < before["journal"]:
        problems.append("P4: the audit journal lost entries")
    # C2: a structure counts at least one member (also a DB constraint).
    if Partenaire.objects.filter(member_count__lt=1).exists():
        problems.append("C2: a partner with fewer than one member")
    # C4: a convention d'utilisation in force sits on a convention métier in force, and is signed before its end.
    broken = ConventionUtilisation.objects.filter(status=ConventionStatus.EN_VIGUEUR).filter(
        ~Q(convention_metier__status=ConventionStatus.EN_VIGUEUR) | Q(convention_metier__end_date__lt=F("signed_on"))
    )
    problems += [
        f"C4: convention d'utilisation {pk} in force past its convention métier"
        for pk in broken.values_list("pk", flat=True)
    ]
    # A2/A3: the portal never creates an account beyond the quotas (the member count does not change there).
    if quotas:
        occupying = Q(accounts__state__in=OCCUPYING_STATES)
        for partenaire in Partenaire.objects.annotate(
            gestionnaires=Count("accounts", filter=occupying & Q(accounts__profile=Profile.GESTIONNAIRE)),
            techniciens=Count("accounts", filter=occupying & Q(accounts__profile=Profile.TECHNICIEN)),
        ):
            limits = quotas_for(partenaire)
            if partenaire.gestionnaires > limits.gestionnaires or partenaire.techniciens > limits.techniciens:
                problems.append(f"A2/A3: partner {partenaire.pk} over quota")
    # A11: a structure that had an active gestionnaire keeps one.
    for pk, count in active_gestionnaires().items():
        if before["gestionnaires"].get(pk) and not count:
            problems.append(f"A11: partner {pk} lost its last active gestionnaire")
    # D7: a request has its first message and its history, which ends on its current state; A1: filed by a
    # technicien.
    last_state = (
        DemandeChange.objects.states().filter(demande=OuterRef("pk")).order_by("-at", "-id").values("new_value")[:1]
    )
    for reference, messages, changes, state, last, profile in Demande.objects.annotate(
        messages_count=Count("messages", distinct=True),
        state_changes=Count("changes", filter=Q(changes__field="state"), distinct=True),
        last=Subquery(last_state),
    ).values_list("reference", "messages_count", "state_changes", "state", "last", "filed_by__profile"):
        if not messages or not changes or last != state:
            problems.append(f"D7: request {reference}: {messages} message(s), history ending on {last}, state {state}")
        if profile != Profile.TECHNICIEN:
            problems.append(f"A1/D2: request {reference} filed by a {profile}")
    # D5: every attachment is a stored, checked file of the announced type; nothing unreferenced on disk.
    if media is not None:
        problems += storage_violations(media)
    return problems


def storage_violations(media) -> list[str]:
    problems = []
    referenced = {}
    for piece in PieceJointe.objects.all():
        referenced[piece.file.name] = piece.mime
    for document in DocumentPartenaire.objects.all():
        referenced[document.file.name] = document.mime
    for convention in ConventionUtilisation.objects.exclude(signed_document=""):
        referenced[convention.signed_document.name] = "application/pdf"
    for avenant in Avenant.objects.exclude(document=""):
        referenced[avenant.document.name] = "application/pdf"
    for attachment in TicketAttachment.objects.all():
        referenced[attachment.file.name] = attachment.mime
    on_disk = {str(path.relative_to(media)): path for path in media.rglob("*") if path.is_file()}
    for name, mime in referenced.items():
        path = on_disk.get(name)
        if path is None:
            problems.append(f"D5: {name} is referenced but not stored")
            continue
        content = path.read_bytes()
        found = magic.from_buffer(content, mime=True)
        if found != mime:
            problems.append(f"D5: {name} stored as {mime} but its content is {found}")
    for name in sorted(set(on_disk) - set(referenced)):
        problems.append(f"D5: {name} stored but referenced by no row")
    return problems


def assert_rules_hold(before, **kwargs):
    problems = rule_violations(before, **kwargs)
    assert not problems, "\n".join(problems)


def assert_answer(response):
    assert response.status_code in ALLOWED_STATUSES, (response.status_code, response.content[:500])


def post_and_check(client, url, data, world, *, quotas=True, method="post"):
    before = snapshot()
    response = getattr(client, method)(url, data)
    assert_answer(response)
    assert_rules_hold(before, quotas=quotas, media=world.media)
    return response


# --- Signed out: login, forgotten password, emailed links ----------------------------------------------------


def test_fuzz_login(world):
    client = CommittingClient()
    usernames = maybe(hostile_text, world.technicien.username)
    passwords = maybe(hostile_text, "Un-mot-de-passe-solide-1")

    def check(data):
        client.logout()
        post_and_check(client, reverse("login"), {"username": data[0], "password": data[1], "next": data[2]}, world)

    fuzz(st.tuples(usernames, passwords, st.one_of(st.just("/"), hostile_text)), check)


def test_fuzz_password_reset_request(world):
    client = CommittingClient()
    identifiers = st.one_of(st.just(world.technicien.username), st.just(world.technicien.email), hostile_text)
    fuzz(
        identifiers,
        lambda identifier: post_and_check(client, reverse("password_reset"), {"identifier": identifier}, world),
    )


new_passwords = st.one_of(
    st.tuples(st.just(STRONG_PASSWORD), st.just(STRONG_PASSWORD)),
    hostile_text.map(lambda text: (text, text)),
    st.tuples(hostile_text, hostile_text),
)


@pytest.mark.parametrize("purpose", [TokenPurpose.ACTIVATION, TokenPurpose.RESET])
def test_fuzz_activation_and_new_password(world, purpose):
    url_name = "activate" if purpose == TokenPurpose.ACTIVATION else "password_reset_confirm"

    def check(example):
        (password1, password2), secret_kind = example
        state = AccountState.INVITE if purpose == TokenPurpose.ACTIVATION else AccountState.ACTIF
        user = UserFactory(state=state)  # in a structure of its own: the world's quotas stay as they are
        secret = invitations._issue(user, purpose)
        if secret_kind == "used":
            invitations._issue(user, purpose)  # the first link is replaced by a newer one
        elif secret_kind == "garbage":
            secret = "x" * 300
        post_and_check(
            CommittingClient(),
            reverse(url_name, args=[secret]),
            {"new_password1": password1, "new_password2": password2},
            world,
        )

    fuzz(st.tuples(new_passwords, st.sampled_from(["valid", "valid", "used", "garbage"])), check)


@pytest.mark.parametrize("url_name", ["password_change", "password_expired"])
def test_fuzz_password_change(world, url_name):
    current = {"password": "Un-mot-de-passe-solide-1"}
    client = committed(world.technicien)

    def check(example):
        old, (new1, new2) = example
        old = current["password"] if old is None else old
        response = post_and_check(
            client, reverse(url_name), {"old_password": old, "new_password1": new1, "new_password2": new2}, world
        )
        if response.status_code == 302:
            current["password"] = new1
            verified_login(client, world.technicien)

    fuzz(st.tuples(st.one_of(st.none(), hostile_text), new_passwords), check)


def test_fuzz_cgu(world):
    client = committed(world.technicien)
    counter = iter(range(10_000))

    def check(accept):
        CGU.objects.create(
            version=f"v{next(counter)}", body="Texte", published_at=timezone.now() - timedelta(seconds=1)
        )
        post_and_check(client, reverse("cgu"), {"accept": accept, "next": "/"}, world)

    fuzz(st.one_of(st.just("on"), hostile_text), check)


codes = st.one_of(st.from_regex(r"\A[0-9]{6}\Z"), st.from_regex(r"\A[a-z2-7]{8}\Z"), hostile_text)


def test_fuzz_two_factor_verify(world):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=world.gestionnaire, name="Téléphone", confirmed=True)
    client = CommittingClient()
    client.force_login(world.gestionnaire)  # password step done, second factor not yet
    fuzz(codes, lambda code: post_and_check(client, reverse("two_factor_verify"), {"code": code}, world))


def test_fuzz_two_factor_setup(world):
    client = CommittingClient()
    client.force_login(world.other_gestionnaire)  # no device yet: enrolment
    fuzz(codes, lambda code: post_and_check(client, reverse("two_factor_setup"), {"code": code}, world))


# --- The gestionnaire's forms ---------------------------------------------------------------------------------


def identity(world):
    return st.fixed_dictionaries(
        {
            "civilite": choice_or_noise(["mme", "m"]),
            "last_name": maybe(hostile_text, "Martin"),
            "first_name": maybe(hostile_text, "Camille"),
            "job_title": maybe(hostile_text, "Conseillère"),
            "phone": maybe(st.one_of(hostile_text, numbers), "03 20 00 00 00"),
            "email": st.one_of(
                st.just(f"camille@{DOMAIN}"),
                st.emails().map(lambda email: email.split("@")[0] + "@" + DOMAIN),
                st.emails(),
                hostile_text,
            ),
        }
    )


def test_fuzz_technicien_creation(world):
    client = committed(world.gestionnaire)
    fuzz(identity(world), lambda data: post_and_check(client, reverse("technicien_create"), data, world))


def test_fuzz_habilitation_request(world):
    client = committed(world.gestionnaire)
    fuzz(identity(world), lambda data: post_and_check(client, reverse("habilitation_request"), data, world))


def test_fuzz_technicien_inactivation(world):
    client = committed(world.gestionnaire)
    reasons = choice_or_noise(["left_structure", "other_field", "other", "fraud", "partner_request"])

    def check(data):
        # One technicien per example; those the previous examples left active leave first (quota A3).
        User.objects.filter(
            partenaire=world.partenaire, state__in=OCCUPYING_STATES, profile=Profile.TECHNICIEN
        ).exclude(pk=world.technicien.pk).update(
            state=AccountState.INACTIVE, inactivated_at=timezone.now(), inactivation_reason="other"
        )
        target = UserFactory(partenaire=world.partenaire, attached_to=world.gestionnaire)
        post_and_check(client, reverse("technicien_inactivate", args=[target.pk]), data, world)

    fuzz(st.fixed_dictionaries({"reason": reasons, "comment": maybe(hostile_text, "Départ")}), check)


def test_fuzz_gestionnaire_modification_request(world):
    client = committed(world.gestionnaire)
    data = st.fixed_dictionaries(
        {
            "last_name": maybe(hostile_text, ""),
            "job_title": maybe(hostile_text, "Directrice"),
            "phone": maybe(st.one_of(hostile_text, numbers), ""),
            "email": st.one_of(st.just(""), st.just(f"nouvelle@{DOMAIN}"), st.emails(), hostile_text),
        }
    )
    url = reverse("gestionnaire_modification", args=[world.other_gestionnaire.pk])
    fuzz(data, lambda example: post_and_check(client, url, example, world))


def test_fuzz_gestionnaire_inactivation_request(world):
    client = committed(world.gestionnaire)
    url = reverse("gestionnaire_inactivation", args=[world.other_gestionnaire.pk])

    def check(wanted_on):
        # Each example asks anew: a request already pending is refused, so start from none.
        GestionnaireRequest.objects.filter(target=world.other_gestionnaire).update(status="refused")
        post_and_check(client, url, {"wanted_on": wanted_on}, world)

    fuzz(dates, check)


def test_fuzz_incident_report(world):
    accounts = [world.gestionnaire.pk, world.other_gestionnaire.pk, world.technicien.pk, world.agent.pk, 0, -1]
    data = st.fixed_dictionaries(
        {
            "account": choice_or_noise([str(pk) for pk in accounts]),
            "kind": choice_or_noise(["fraud", "loss", "theft", "misuse"]),
            "description": maybe(hostile_text, "Identifiants perdus le 3 mars."),
        }
    )

    def check(example):
        # A technicien reports only its own account; a gestionnaire any of the structure.
        for user in (world.gestionnaire, world.technicien):
            post_and_check(committed(user), reverse("incident_report"), example, world)

    fuzz(data, check)


# --- The technicien's forms: the five requests, the reply, the history -------------------------------------

INSURED = {
    "assure_civilite": "mme",
    "assure_last_name": "Dupré",
    "assure_first_name": "Éloïse",
    "assure_birth_date": "1984-03-12",
    "assure_departement": "59",
    "message": "Merci de nous rappeler.",
}


def future_slot():
    return (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT10:00")


KIND_FIELDS = {
    DemandeKind.CONTACT: {},
    DemandeKind.ETUDE_DOSSIER: {"dossier_type": ["puma", "css", "ame", "autre"], "dossier_other": None},
    DemandeKind.SIGNALEMENT: {
        "nature": ["rupture_droits", "renoncement", "demarches", "autre"],
        "urgency": ["normale", "urgente"],
    },
    DemandeKind.RENDEZ_VOUS: {
        "reason": None,
        "modality": ["sur_place", "telephone", "visio"],
        "slot_1": "slot",
        "slot_2": "slot",
        "slot_3": "slot",
        "worker_attends": ["oui", "non"],
    },
    DemandeKind.DOCUMENT: {
        "document_type": [
            "attestation_droits",
            "ceam_provisoire",
            "formulaire_carte_vitale",
            "offres_prevention",
            "autre",
        ],
        "document_other": None,
        "delivery": ["assure", "partenaire"],
    },
}


# Staged files to remove, as the page posts their ids. Known bug (see test_remove_pieces_*): a non-ASCII digit
# such as "²" or more than 4300 digits gives a 500; kept out of the fuzz so that it stays meaningful.
piece_ids = st.lists(
    st.one_of(
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.text(alphabet=st.characters(max_codepoint=0x7F, exclude_categories=["Cs"]), max_size=30),
    ),
    max_size=2,
)


def demande_data(kind):
    fields = {
        "assure_civilite": choice_or_noise(["mme", "m"]),
        "assure_last_name": maybe(hostile_text, "Dupré"),
        "assure_first_name": maybe(hostile_text, "Éloïse"),
        "assure_birth_date": maybe(dates, "1984-03-12"),
        "assure_departement": choice_or_noise(["59", "2A", "2B", "971", "976", "01", "95", "20", "977", "00"]),
        "message": maybe(hostile_text, "Merci de nous rappeler."),
        "form_token": st.one_of(st.just("fresh"), st.uuids().map(str), hostile_text),
        "remove_pieces": piece_ids,
        "files": st.lists(random_upload(), max_size=2),
    }
    for name, spec in KIND_FIELDS[kind].items():
        if spec is None:
            fields[name] = maybe(hostile_text, "Précision")
        elif spec == "slot":
            fields[name] = st.one_of(st.just("future"), datetimes, st.just(""))
        else:
            fields[name] = choice_or_noise(spec)
    return st.fixed_dictionaries(fields)


@pytest.mark.parametrize("kind", list(DemandeKind))
def test_fuzz_the_five_request_forms(world, kind):
    client = committed(world.technicien)
    url = reverse("demande_new", args=[world.caisse.pk, kind])

    def check(data):
        data = dict(data)
        if data["form_token"] == "fresh":
            data["form_token"] = str(uuid.uuid4())
        for name in ("slot_1", "slot_2", "slot_3"):
            if data.get(name) == "future":
                data[name] = future_slot()
        post_and_check(client, url, data, world)

    fuzz(demande_data(kind), check)


def test_fuzz_reply(world):
    client = committed(world.technicien)
    url = reverse("demande_reply", args=[world.demande.reference])
    data = st.fixed_dictionaries(
        {
            "body": maybe(hostile_text, "Voici le complément."),
            "form_token": st.one_of(st.just("fresh"), st.uuids().map(str), hostile_text),
            "remove_pieces": piece_ids,
            "files": st.lists(random_upload(), max_size=2),
        }
    )

    def check(example):
        example = dict(example)
        if example["form_token"] == "fresh":
            example["form_token"] = str(uuid.uuid4())
        post_and_check(client, url, example, world)

    fuzz(data, check)


# --- P7: a problem reported to the caisse, and the partner's reply on it -------------------------------------


def test_fuzz_ticket_report(world):
    data = st.fixed_dictionaries(
        {
            "caisse": choice_or_noise([str(world.caisse.pk), "0"]),
            "category": choice_or_noise(["usage", "dysfonctionnement", "compte", "autre"]),
            "page": maybe(hostile_text, "/demandes/"),
            "description": maybe(hostile_text, "Le bouton Envoyer ne répond pas."),
            "form_token": st.one_of(st.just("fresh"), st.uuids().map(str), hostile_text),
            "files": st.lists(random_upload(), max_size=2),
        }
    )

    def check(example):
        example = dict(example)
        if example["form_token"] == "fresh":
            example["form_token"] = str(uuid.uuid4())
        for user in (world.technicien, world.gestionnaire):
            post_and_check(committed(user), reverse("ticket_report"), example, world)

    fuzz(data, check)


def test_fuzz_ticket_reply(world):
    ticket = assistance.report_problem(
        user=world.technicien,
        caisse=world.caisse,
        category="usage",
        page="/",
        description="Question sur l'historique.",
        user_agent="",
    )
    url = reverse("ticket_reply", args=[ticket.reference])
    data = st.fixed_dictionaries(
        {"body": maybe(hostile_text, "Voici la précision."), "files": st.lists(random_upload(), max_size=2)}
    )

    def check(example):
        post_and_check(committed(world.technicien), url, example, world)

    fuzz(data, check)


@pytest.mark.parametrize("url_name", ["demandes", "demandes_export"])
def test_fuzz_history_filters(world, url_name):
    client = committed(world.technicien)
    filters = st.fixed_dictionaries(
        {
            "q": st.one_of(st.just(world.demande.reference), st.just("dupre"), hostile_text),
            "kind": choice_or_noise([""] + [k.value for k in DemandeKind]),
            "state": choice_or_noise(["", "envoyee", "en_cours", "traitee"]),
            "caisse": choice_or_noise(["", str(world.caisse.pk)]),
            "since": st.one_of(st.just(""), dates),
            "until": st.one_of(st.just(""), dates),
            "page": st.one_of(st.just("1"), numbers, hostile_text),
        }
    )

    def check(params):
        before = snapshot()
        response = client.get(reverse(url_name), params)
        assert_answer(response)
        if url_name == "demandes_export" and response.status_code == 200:
            b"".join(response.streaming_content)  # the CSV is produced while streamed: read it all
        assert_rules_hold(before, media=world.media)

    fuzz(filters, check)


@pytest.mark.parametrize("removed", ["²", "9" * 4301], ids=["superscript-two", "4301-digits"])
@pytest.mark.parametrize("page", ["demande_new", "demande_reply"])
def test_remove_pieces_that_int_cannot_read_is_not_a_500(world, page, removed):
    client = committed(world.technicien)
    client.raise_request_exception = False  # the 500 as the browser gets it
    if page == "demande_new":
        url = reverse("demande_new", args=[world.caisse.pk, DemandeKind.CONTACT])
        data = {**INSURED}
    else:
        url = reverse("demande_reply", args=[world.demande.reference])
        data = {"body": "Voici le complément."}
    response = client.post(url, {**data, "form_token": str(uuid.uuid4()), "remove_pieces": [removed]})
    assert_answer(response)
    assert response.status_code in {200, 302}, response.status_code


# --- The fixtures of the checks themselves -----------------------------------------------------------------


def test_rule_checks_catch_a_broken_row(world):
    """The checker is not vacuous: a row written past the rules is reported."""
    before = snapshot()
    Partenaire.objects.filter(pk=world.partenaire.pk).update(siret="12345678901234")
    problems = rule_violations(before, media=world.media)
    assert any("Partenaire" in problem and "siret" in problem for problem in problems), problems
    stray = world.media / "pieces-jointes" / "2026" / "01" / (hashlib.md5(b"x").hexdigest() + ".pdf")  # noqa: S324
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"<html></html>")
    assert any("referenced by no row" in problem for problem in rule_violations(before, media=world.media))
    assert access.has_access(world.partenaire, world.caisse)


@pytest.mark.parametrize("field", ["assure_last_name", "assure_first_name", "job_title"])
def test_d4_a_nir_typed_in_a_name_or_a_job_title_is_refused(world, field):
    if field == "job_title":
        client = committed(world.gestionnaire)
        data = {
            "civilite": "mme",
            "last_name": "Martin",
            "first_name": "Lou",
            "job_title": VALID_NIR,
            "phone": "0320000000",
            "email": f"lou@{DOMAIN}",
        }
        response = client.post(reverse("technicien_create"), data)
        saved = User.objects.filter(job_title=VALID_NIR).exists()
    else:
        client = committed(world.technicien)
        url = reverse("demande_new", args=[world.caisse.pk, DemandeKind.CONTACT])
        response = client.post(url, {**INSURED, field: VALID_NIR, "form_token": str(uuid.uuid4())})
        saved = Demande.objects.filter(**{field: VALID_NIR}).exists()
    assert response.status_code == 200 and not saved, (response.status_code, saved)
    assert "NIR" in response.content.decode()
