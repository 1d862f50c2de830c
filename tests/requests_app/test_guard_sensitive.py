"""D4, sharpened: every inflected form of a lexicon term, a NIR whatever its separators, every kind of sensitive
data (RGPD art. 9 and 10, subjective judgements) with an error that names its category, maintained in the admin."""

import importlib

import pytest
from django.core.exceptions import ValidationError
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from core.guard import CATEGORIES, EXCEPTION, check_free_text, find_nirs, find_sensitive_terms
from core.inflection import word_forms
from core.models import HealthTerm
from core.models.lexicon import HealthTermCategory
from tests.accounts.factories import UserFactory
from tests.conftest import load_health_lexicon, verified_login
from tests.requests_app.guard_corpus import digits, nir

pytestmark = pytest.mark.django_db

lexicon_migration = importlib.import_module("requests_app.migrations.0001_health_lexicon")
sensitive_migration = importlib.import_module("requests_app.migrations.0006_sensitive_lexicon")


@pytest.fixture(autouse=True)
def initial_lexicon(db):
    load_health_lexicon()


def refusal(text: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check_free_text(text)
    return caught.value


def categories_found(text: str) -> list[str]:
    return [finding.category for finding in find_sensitive_terms(text)]


# --- Inflections --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("cancer", {"cancer", "cancers"}),
        ("sourd", {"sourde", "sourds", "sourdes"}),
        ("dépressif", {"depressive", "depressives", "depressifs"}),
        ("contagieux", {"contagieuse", "contagieuses"}),
        ("mental", {"mentaux", "mentale", "mentales"}),
        ("antirétroviral", {"antiretroviraux"}),
        ("psychiatrique", {"psychiatriques"}),
        ("consommateur", {"consommatrice", "consommatrices", "consommateuse", "consommateurs"}),
        ("menteur", {"menteuse", "menteuses", "menteurs"}),
        ("chrétien", {"chretienne", "chretiennes", "chretiens"}),
        ("criminel", {"criminelle", "criminelles", "criminels"}),
        ("prisonnier", {"prisonniere", "prisonnieres"}),
        ("muet", {"muette", "muettes"}),
        ("inquiet", {"inquiete"}),
        ("turc", {"turque", "turques"}),
        ("fou", {"folle", "folles", "fous"}),
        ("nègre", {"negresse"}),
        ("métis", {"metisse", "metisses"}),
        ("bouffon", {"bouffonne"}),
        # Written in the feminine or the plural, a term finds its masculine singular and the other forms.
        ("séropositive", {"seropositif", "seropositifs", "seropositives"}),
        ("antirétroviraux", {"antiretroviral", "antiretrovirale"}),
        ("manipulatrice", {"manipulateur", "manipulateurs"}),
        ("juive", {"juif", "juifs"}),
        ("voilée", {"voile", "voiles", "voilees"}),
    ],
)
def test_d4_every_word_has_its_feminine_and_plural_forms_irregular_ones_included(word, expected):
    assert expected <= word_forms(word)


@pytest.mark.parametrize(
    ("word", "exactly"),
    [
        ("VIH", {"vih", "vihs"}),  # an abbreviation takes only the plural "s"
        ("PrEP", {"prep", "preps"}),
        ("de", {"de"}),
        ("21", {"21"}),
        ("sous", {"sous"}),
    ],
)
def test_d4_abbreviations_numbers_and_short_words_do_not_inflect(word, exactly):
    assert word_forms(word) == exactly


def test_d4_a_masculine_in_e_acute_is_not_read_as_a_feminine():
    """Folded, « syndiqué » ends in -e like a feminine: stripping it would also refuse « syndic »."""
    assert "syndic" not in word_forms("syndiqué")
    assert "ecrou" not in word_forms("écroué")
    assert {"syndiquee", "syndiques", "syndiquees"} <= word_forms("syndiqué")


def test_d4_every_lexicon_entry_is_refused_in_every_form_of_its_words():
    """Each active term, each of its words in each generated form (the others as written), is found."""
    terms = HealthTerm.objects.filter(active=True).exclude(category=EXCEPTION)
    assert terms.count() >= 600
    from core.guard import term_word_forms

    missed = []
    for term in terms:
        words = term.normalized.split(" ")
        for position, forms in enumerate(term_word_forms(term.term)):
            for form in forms:
                text = " ".join([*words[:position], form, *words[position + 1 :]])
                if not find_sensitive_terms(f"Situation : {text}, merci."):
                    missed.append(text)
    assert not missed


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Elle est dépressive.", "maladie"),
        ("Deux enfants épileptiques.", "maladie"),
        ("Des troubles mentaux importants.", "maladie"),
        ("Elle est contagieuse.", "maladie"),
        ("Sous antirétroviraux.", "traitement"),
        ("Ses séances de psychothérapies.", "traitement"),
        ("Une personne malentendante.", "handicap"),
        ("Sa fille est polyhandicapée.", "handicap"),
        ("Elles sont musulmanes.", "religion"),
        ("Une famille chrétienne.", "religion"),
        ("Elle est juive.", "religion"),
        ("Une militante syndicale.", "syndicat"),
        ("Des personnes homosexuelles.", "sexualite"),
        ("Travailleuse du sexe.", "sexualite"),
        ("Des affaires criminelles.", "infraction"),
        ("Incarcérée depuis mars.", "infraction"),
        ("Elle est menteuse.", "jugement"),
        ("Une manipulatrice.", "jugement"),
        ("Elle est folle.", "jugement"),
        ("Des fainéants.", "jugement"),
        ("Une ivrognesse.", "jugement"),
    ],
)
def test_d4_inflected_forms_are_refused_in_sentences(text, category):
    assert category in categories_found(text)


# --- NIR: any separator ------------------------------------------------------------------------------------

BODY = "1841275115423"

SEPARATORS = [
    "\n",
    "\r\n",
    "\t",
    "/",
    "_",
    "\\",
    "|",
    " / ",
    " - ",
    " _ ",
    "--",
    " .\n",
    "\u2014",  # em dash
    "\u2212",  # minus sign
    "\u00a0",
    "\u202f",
    "\u2009",
    "\u200b",  # zero-width space, left by copy-paste from a PDF
    "\u00a0/\u00a0",
    "  ",
    "\n\n",
]


@pytest.mark.parametrize("separator", SEPARATORS, ids=[repr(s) for s in SEPARATORS])
def test_d4_nir_is_refused_whatever_separator_is_typed_between_its_groups(separator):
    written = nir(BODY, separator)
    assert find_nirs(f"Numéro : {written}, merci.") == [nir(BODY, "")]
    assert refusal(f"Bonjour,\nson numéro est le {written}\nMerci.").code == "nir"


@pytest.mark.parametrize(
    "written",
    [
        nir(BODY, (".", " ", "-", "\n", "/", "_")),
        nir(BODY, ("/", "/", " / ", "\t", ".", " - ")),
        nir("284122A115423", "/"),
        nir("169052B033021", "_"),
        nir("2841297123423", "\n", overseas=True),
        f"{nir(BODY, '')[:13]}/{nir(BODY, '')[13:]}",
        f"{nir(BODY, '')[:13]}\n{nir(BODY, '')[13:]}",
        digits(BODY),
        digits(BODY, "."),
        digits(BODY, "-"),
        nir(BODY, "/", key=False),
        nir(BODY, "\n", key=False),
    ],
)
def test_d4_nir_in_mixed_separators_digit_by_digit_or_without_key_is_refused(written):
    assert find_nirs(written)
    assert refusal(f"NIR : {written}").code == "nir"


@pytest.mark.parametrize(
    "text",
    [
        "Tél. : 06/12/34/56/78 ou 03_20_25_76_22 ou 03\\20\\25\\76\\22",
        "Portable :\n06 12 34 56 78\nFixe :\n03 20 25 76 22",
        "Appeler le 06 12 34 56 78 / 07 11 22 33 44 / 03 20 25 76 22",
        "SIRET 443/061/841/00013, SIREN 443_061_841",
        "Née le 12/03/1984 — arrivée le 1/12/2026, rendez-vous le 2026/04/14",
        "Dates : 01/01/2026 - 31/12/2026\n01/01/2027 - 31/12/2027",
        "Reste à charge : 1 234,56 € / mois ; 12 345,00 €\n980,12 € par trimestre",
        "IBAN FR76_3000_6000_0112_3456_7890_189 ; BIC AGRIFRPP",
        "Références EP-26-7K3M-9QXA / EP-26-4FZQ-2LMA\nEP-26-9XQ2-K7TA",
        "12 rue de Lannoy\n59100 Roubaix\n03 20 25 76 22",
        "Pièces 1/3, 2/3 et 3/3 ; dossier 2026/0412/7731",
        "Numéro fiscal 30 12 345 678 901 / 0312345678912",
        f"Référence {nir(BODY, '')}1 / 9{nir(BODY, '')}",
    ],
)
def test_d4_ordinary_numbers_stay_accepted_with_the_new_separators(text):
    assert find_nirs(text) == []
    check_free_text(text)


# --- Categories and the error ------------------------------------------------------------------------------


def test_d4_categories_of_the_model_the_guard_and_the_data_file_agree():
    assert set(HealthTermCategory.values) == set(CATEGORIES) | {EXCEPTION}
    in_file = {category for category, _ in lexicon_migration.read_lexicon_file()}
    assert in_file == set(HealthTermCategory.values), "seed terms for every category"
    assert set(HealthTermCategory.values) == lexicon_migration.CATEGORIES


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("Madame a un diabète.", "health_data", "une donnée de santé (maladie ou diagnostic) : « diabète »"),
        ("Sous chimiothérapie.", "health_data", "une donnée de santé (traitement) : « chimiothérapie »"),
        ("Dossier MDPH en cours.", "health_data", "une donnée de santé (handicap) : « MDPH »"),
        ("Une IRM prévue.", "health_data", "une donnée de santé (examen ou acte médical) : « IRM »"),
        ("Madame est musulmane.", "sensitive_data", "une donnée sensible (opinion religieuse ou philosophique)"),
        ("Famille d'origine maghrébine.", "sensitive_data", "une donnée sensible (origine raciale ou ethnique)"),
        ("Militant communiste.", "sensitive_data", "une donnée sensible (opinion politique) : « communiste »"),
        ("Elle est syndiquée.", "sensitive_data", "une donnée sensible (appartenance syndicale) : « syndiqué »"),
        ("Il est homosexuel.", "sensitive_data", "une donnée sensible (vie sexuelle ou orientation sexuelle)"),
        ("Sortant de prison.", "offence_data", "une donnée relative aux infractions ou aux condamnations : « prison »"),
        ("Monsieur est un fainéant.", "subjective_judgement", "un jugement subjectif ou insultant : « fainéant »"),
    ],
)
def test_d4_the_error_names_the_category_found_and_why_it_is_refused(text, code, says):
    error = refusal(text)
    assert error.code == code
    message = error.messages[0]
    assert says in message
    assert "CNIL" in message
    reason = {
        "health_data": "aucune donnée de santé",
        "sensitive_data": "RGPD, article 9",
        "offence_data": "RGPD, article 10",
        "subjective_judgement": "objectifs",
    }[code]
    assert reason in message


def test_d4_several_categories_give_one_error_per_family_each_naming_its_categories():
    text = f"{nir(BODY)} ; diabétique, sous insuline ; musulman et syndiqué ; condamné ; fainéant et menteur."
    error = refusal(text)
    codes = [item.code for item in error.error_list]
    assert codes == ["nir", "health_data", "sensitive_data", "offence_data", "subjective_judgement"]
    health, sensitive, offence, judgement = (item.message % item.params for item in error.error_list[1:])
    assert "une donnée de santé (maladie ou diagnostic) : « diabétique » ; une donnée de santé (traitement)" in health
    assert "(opinion religieuse ou philosophique) : « musulman » ; une donnée sensible (appartenance" in sensitive
    assert "« condamné »" in offence
    assert "des jugements subjectifs ou insultants : « fainéant », « menteur »" in judgement


@pytest.mark.parametrize(
    "text",
    [
        "Orientée par le Secours catholique et le Secours islamique.",
        "Étudiante à l'Université catholique de Lille.",
        "Elle souhaite participer au dépistage organisé du cancer du sein.",
        "Kit de dépistage du cancer colorectal non reçu.",
    ],
)
def test_d4_exceptions_are_accepted(text):
    check_free_text(text)


def test_d4_an_exception_protects_only_its_phrase_and_can_be_switched_off():
    assert categories_found("Secours catholique ; elle est catholique.") == ["religion"]
    assert categories_found("Ligue contre le cancer") == ["maladie"]
    exception = HealthTerm.objects.get(normalized="secours catholique")
    exception.active = False
    exception.save(update_fields=["active"])
    assert categories_found("Orientée par le Secours catholique.") == ["religion"]


@pytest.mark.parametrize(
    "text",
    [
        "La protection au titre de son ALD arrive à échéance.",  # administrative status managed by the caisse
        "Voir avec la TS du CCAS (travailleuse sociale).",  # TS alone means « travailleur social » here
        "Réponse à envoyer au TSA 71234.",  # the caisses' postal « tri service arrivée »
        "8 place de l'Église, 59200 Tourcoing.",
        "Le syndic de copropriété réclame des charges.",
        "Elle a besoin d'aide ; l'aide-ménagère passe le lundi.",
        "Tentative de fraude sur son compte ameli signalée par la banque.",
        "Victime de violences conjugales, elle demande ses propres droits.",
        "Sa carte Vitale a été volée, elle a déposé plainte.",
        "Interprète en arabe souhaité ; nationalité algérienne ; demandeuse d'asile.",
        "Résidente de l'EHPAD Les Tilleuls ; rendez-vous dans un local accessible PMR.",
        "Pension d'invalidité, arrêt de travail, congé maternité : attestations à jour.",
        "Sous curatelle, le mandataire judiciaire signe ; audience au tribunal lundi.",
        "Les pièces détenues par la CAF ; prélèvement SEPA ; rendez-vous en sept.",
        "C'est bête, elle a perdu sa carte ; elle est incapable de se déplacer.",
        "Greffe du tribunal ; fracture numérique ; scanner les documents.",
    ],
)
def test_d4_ambiguous_terms_decided_ordinary_are_accepted(text):
    check_free_text(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Il a fait une TS en mars.", "maladie"),
        ("Une TS médicamenteuse.", "maladie"),
        ("Dossier MDPH déposé.", "handicap"),
        ("Il travaille en ESAT.", "handicap"),
        ("Elle perçoit l'AAH.", "handicap"),
        ("Trouble du spectre de l'autisme.", "handicap"),
        ("Sous PrEP, suivi au CeGIDD.", "traitement"),
        ("Patient VIH, VHC, SEP, TCA, TDAH, BPCO, AVC.", "maladie"),
        ("Après une IVG.", "examen"),
        ("Sortant de prison, casier judiciaire.", "infraction"),
        ("Incarcéré puis condamné.", "infraction"),
        ("Suivi par le SPIP.", "infraction"),
        ("C'est un fraudeur.", "infraction"),
        ("Elle est alcoolique.", "maladie"),  # health and a judgement: one category, the stronger reason
        ("Famille rom.", "origine"),
        ("Fréquente la mosquée.", "religion"),
        ("Délégué CGT.", "syndicat"),
    ],
)
def test_d4_ambiguous_terms_decided_sensitive_are_refused(text, category):
    assert category in categories_found(text)


# --- The lexicon in the database and in the admin -----------------------------------------------------------


def test_d4_the_new_data_migration_adds_missing_terms_and_keeps_existing_rows():
    count = HealthTerm.objects.count()
    edited = HealthTerm.objects.get(normalized="musulman")
    edited.active = False
    edited.category = HealthTermCategory.AUTRE
    edited.save()
    HealthTerm.objects.filter(normalized="fraudeur").delete()

    class SchemaEditor:
        from django.db import connection

    # The models as they stood when the migration ran (the lexicon was then requests_app's; its table is kept).
    apps = MigrationLoader(None).project_state(("requests_app", "0006_sensitive_lexicon")).apps
    sensitive_migration.add_missing_terms(apps, SchemaEditor)
    sensitive_migration.add_missing_terms(apps, SchemaEditor)  # idempotent
    assert HealthTerm.objects.count() == count
    edited.refresh_from_db()
    assert (edited.active, edited.category) == (False, HealthTermCategory.AUTRE)
    assert HealthTerm.objects.get(normalized="fraudeur").category == HealthTermCategory.INFRACTION


def test_d4_the_admin_filters_every_category_and_offers_it_on_the_form(client):
    verified_login(client, UserFactory(administrateur=True))
    changelist = reverse("admin:core_healthterm_changelist")
    page = client.get(changelist).content.decode()
    assert "lexique des données sensibles" in page.lower()
    for label in HealthTermCategory.labels:
        assert label in page, f"filter by « {label} »"
    religion = client.get(changelist, {"category__exact": "religion"}).content.decode()
    assert "musulman" in religion and "diabète" not in religion
    add_form = client.get(reverse("admin:core_healthterm_add")).content.decode()
    for value in HealthTermCategory.values:
        assert f'value="{value}"' in add_form


def test_d4_the_admin_shows_the_forms_a_term_refuses(client):
    verified_login(client, UserFactory(administrateur=True))
    term = HealthTerm.objects.get(normalized="menteur")
    page = client.get(reverse("admin:core_healthterm_change", args=[term.pk])).content.decode()
    assert "formes reconnues" in page.lower()
    assert "menteuse" in page and "menteurs" in page


def test_d4_a_term_of_any_category_added_in_the_admin_is_refused_right_after_with_its_reason(client):
    text = "Monsieur est un olibrius."
    check_free_text(text)
    verified_login(client, UserFactory(administrateur=True))
    response = client.post(
        reverse("admin:core_healthterm_add"),
        {"term": "olibrius", "category": HealthTermCategory.JUGEMENT, "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    error = refusal(text)
    assert error.code == "subjective_judgement"
    assert "un jugement subjectif ou insultant : « olibrius »" in error.messages[0]
