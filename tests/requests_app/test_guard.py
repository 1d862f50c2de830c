"""D4: no free-text zone, on the portal or in the admin, accepts a NIR or health data."""

import importlib
import re

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from stdnum.fr import nir as stdnum_nir
from stdnum.fr import siret as stdnum_siret

from core.guard import (
    FREE_TEXT_HELP_TEXT,
    FreeTextField,
    check_free_text,
    find_health_terms,
    find_nirs,
    free_text_validator,
    mask_nir,
    normalize_text,
)
from core.models import HealthTerm
from core.models.lexicon import HealthTermCategory
from tests.accounts.factories import UserFactory
from tests.conftest import load_health_lexicon, verified_login

pytestmark = pytest.mark.django_db

lexicon_migration = importlib.import_module("requests_app.migrations.0001_health_lexicon")


load_initial_lexicon = load_health_lexicon


@pytest.fixture(autouse=True)
def initial_lexicon(db):
    """The migration's terms, loaded again if a transactional test (live_server…) flushed the database."""
    load_initial_lexicon()


def with_key(body: str) -> str:
    """A NIR from its 13 first characters: key = 97 - (number mod 97), 2A → 19 and 2B → 18 for the sum."""
    number = body[:5] + {"2A": "19", "2B": "18"}.get(body[5:7], body[5:7]) + body[7:]
    return f"{body}{97 - int(number) % 97:02d}"


def wrong_key(body: str) -> str:
    key = int(with_key(body)[13:])
    return f"{body}{(key % 97) + 1:02d}"


BODY = "1841275115423"  # man born in December 1984 in Paris (75), commune 115, serial 423
NIR = with_key(BODY)
CORSICAN_2A = with_key("284122A115423")
CORSICAN_2B = with_key("169052B033021")


def refusal(text: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check_free_text(text)
    return caught.value


def spaced(nir: str, sep: str = " ") -> str:
    return sep.join((nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]))


# --- NIR ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [BODY, "284122A115423", "169052B033021", "2991299126111", "1000000000001"])
def test_d4_test_keys_are_the_ones_stdnum_computes(body):
    assert stdnum_nir.calc_check_digits(body) == with_key(body)[13:]
    assert stdnum_nir.is_valid(with_key(body))
    assert not stdnum_nir.is_valid(wrong_key(body))


@pytest.mark.parametrize(
    "written",
    [
        NIR,
        spaced(NIR),
        spaced(NIR, "."),
        spaced(NIR, "-"),
        spaced(NIR, "\u00a0"),
        spaced(NIR, "\u202f"),
        spaced(NIR, " . "),
        f"{NIR[:13]} {NIR[13:]}",
        f"{NIR[:13]}-{NIR[13:]}",
    ],
)
def test_d4_nir_is_refused_with_or_without_separators(written):
    error = refusal(f"Bonjour, la personne (n° {written}) attend sa carte Vitale.")
    assert error.code == "nir"
    assert find_nirs(written) == [NIR]


@pytest.mark.parametrize(
    "written", [CORSICAN_2A, spaced(CORSICAN_2A), spaced(CORSICAN_2A, "."), CORSICAN_2B.lower(), spaced(CORSICAN_2B)]
)
def test_d4_corsican_nir_is_refused(written):
    assert refusal(f"NIR : {written}").code == "nir"
    assert find_nirs(written) == [written.replace(" ", "").replace(".", "").upper()]


def test_d4_overseas_nir_written_with_its_three_digit_departement_is_refused():
    nir = with_key("2841297123423")  # département 971, commune 23
    written = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:8]} {nir[8:10]} {nir[10:13]} {nir[13:]}"
    assert find_nirs(written) == [nir]


def test_d4_the_message_masks_the_nir_and_recalls_the_rule():
    error = refusal(f"Son numéro est le {spaced(NIR)}.")
    message = error.messages[0]
    assert "1 84 12 ** *** *** **" in message
    assert re.findall(r"\d+", message) == ["1", "84", "12"]
    assert "convention d'utilisation" in message and "pièces jointes" in message
    assert mask_nir(CORSICAN_2A) == "2 84 12 ** *** *** **"


@pytest.mark.parametrize(
    "written", [wrong_key(BODY), spaced(wrong_key(BODY)), spaced(wrong_key("284122A115423"), "."), "000000000000000"]
)
def test_d4_a_fifteen_digit_number_with_a_wrong_key_is_accepted(written):
    check_free_text(f"Référence du dossier : {written}")
    assert find_nirs(written) == []


@pytest.mark.parametrize("written", [BODY, spaced(NIR)[:-3], "2 84 12 2A 115 423", "1841275115423."])
def test_d4_nir_without_its_key_is_refused_when_its_shape_is_a_nir(written):
    error = refusal(f"Numéro : {written}")
    assert error.code == "nir"
    assert "(sans sa clé)" in error.messages[0]
    assert "** *** ***" in error.messages[0]


@pytest.mark.parametrize(
    "written",
    [
        "0841275115423",  # no sex digit 0
        "1841375115423",  # month 13
        "1841200115423",  # département 00
        "1841275000423",  # commune 000
        "1841275115000",  # serial 000
        "9876543210987",
        "3 84 12 75 115 423",  # 3 and 4 only with a valid key
    ],
)
def test_d4_thirteen_digit_numbers_that_are_not_shaped_as_a_nir_are_accepted(written):
    check_free_text(f"Facture {written}")


@pytest.mark.parametrize(
    "text",
    [
        "Vous pouvez me joindre au 03 20 25 76 22 ou au 06 12 34 56 78.",
        "Tél. : +33 3 20 25 76 22 / 0320257622",
        "03 20 25 76 22 06 12 34 56 78 07 11 22 33 44",
        "SIRET 26590001900018, soit 265 900 019 00018.",
        "Née le 12/03/1984, arrivée le 12.03.1984, dossier du 1984-03-12.",
        "Reste à charge : 1 234,56 € ; loyer 1234,56 €, dette 12 345 678,90 €.",
        "IBAN FR76 3000 6000 0112 3456 7890 189",
        "Code postal 59000, numéro allocataire 1234567.",
        f"Référence {NIR}1 (16 chiffres) et 9{NIR}",
    ],
)
def test_d4_ordinary_numbers_are_accepted(text):
    check_free_text(text)
    assert find_nirs(text) == []


def test_d4_the_siret_of_the_false_positive_test_is_a_real_siret():
    assert stdnum_siret.is_valid("26590001900018")


def test_d4_every_nir_of_the_text_is_reported_once():
    text = f"{spaced(NIR)} et {CORSICAN_2A}, puis {NIR} de nouveau, et 0 84 12 75 115 429"
    assert find_nirs(text) == [NIR, CORSICAN_2A]
    assert "1 84 12 ** *** *** **" in refusal(text).messages[0]


# --- Health data ----------------------------------------------------------------------------------------


def test_d4_the_initial_lexicon_is_loaded_from_its_file_and_reloading_changes_nothing():
    terms = set(HealthTerm.objects.values_list("normalized", flat=True))
    assert len(terms) >= 150
    assert {"diabete", "cancer", "vih", "sida", "insuline", "ivg", "hospitalisation psychiatrique"} <= terms
    assert not {"sante", "soins", "complementaire sante solidaire", "rendez vous", "medecin traitant"} & terms
    assert not {"hopital", "mutuelle", "ald", "pass", "maladie"} & terms
    assert len(terms) == len(list(lexicon_migration.read_lexicon_file()))
    load_initial_lexicon()
    assert HealthTerm.objects.count() == len(terms)


@pytest.mark.parametrize("written", ["DIABETE", "diabète", "Diabète", "DIABÈTE", "diabete", "Diabètes"])
def test_d4_health_term_is_refused_whatever_its_case_and_accents(written):
    error = refusal(f"La personne a un {written} de type 2.")
    assert error.code == "health_data"
    assert find_health_terms(written) == ["diabète"]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Elle a besoin d'insuline tous les jours.", "insuline"),
        ("Il n'a plus l’insuline prescrite.", "insuline"),
        ("Suivi en chimiothérapie depuis mars.", "chimiothérapie"),
        ("Elle prend des anti-dépresseurs.", "anti-dépresseur"),
        ("Elle prend des antidépresseurs.", "antidépresseur"),
        ("Après deux hospitalisations psychiatriques, il", "hospitalisation psychiatrique"),
        ("Personne atteinte de la COVID-19", "covid-19"),
        ("Personne séropositive au VIH.", "séropositive"),
        ("Une personne sourde et malvoyante", "sourd"),
        ("Après une IVG, elle…", "IVG"),
        ("Enfant porteur de trisomie 21", "trisomie 21"),
        ("Maladie d'Alzheimer diagnostiquée", "alzheimer"),
        ("Problème d'œdème ? Non : cancers multiples", "cancer"),
    ],
)
def test_d4_health_term_is_refused_inside_sentences(text, term):
    error = refusal(text)
    assert error.code == "health_data"
    assert term in find_health_terms(text)
    assert f"« {term} »" in error.messages[0]
    assert "CNIL" in error.messages[0] and "donnée de santé" in error.messages[0]


@pytest.mark.parametrize(
    "text",
    [
        "Complémentaire santé solidaire",
        "rendez-vous",
        "soins",
        "médecin traitant",
        "La personne a besoin d'une attestation de droits",
        "Demande de Complémentaire santé solidaire : rendez-vous souhaité avec le médecin traitant.",
        "Renoncement aux soins : la mutuelle ne répond pas, facture de l'hôpital impayée, PASS de Lille.",
        "L'Assurance Maladie lui a écrit ; forfait hospitalier et ALD à vérifier.",
        "La personne résidant à Lille a perdu sa carte Vitale.",
        "Voici la liste des pièces ; l'artiste a signé ; la firme a répondu.",
        "Fracture numérique : elle ne sait pas scanner ses documents pour le greffe du tribunal.",
        "Il régale ses voisins, met la sourdine et mange une galette.",
        "",
        "   ",
    ],
)
def test_d4_ordinary_sentences_are_accepted(text):
    check_free_text(text)
    assert find_health_terms(text) == []


def test_d4_a_term_added_to_the_lexicon_is_refused_right_after():
    text = "Il souffre de podagre depuis l'hiver."
    check_free_text(text)  # compiles and caches the lexicon
    HealthTerm.objects.create(term="Podagre", category=HealthTermCategory.MALADIE)
    assert refusal(text).code == "health_data"


def test_d4_a_term_added_in_the_admin_is_refused_right_after(client):
    text = "Une crise de podagre."
    check_free_text(text)
    verified_login(client, UserFactory(administrateur=True))
    response = client.post(
        reverse("admin:core_healthterm_add"),
        {"term": "  Podagre  ", "category": HealthTermCategory.MALADIE, "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert HealthTerm.objects.get(normalized="podagre").term == "Podagre"
    assert refusal(text).code == "health_data"


def test_d4_the_admin_refuses_a_term_already_in_the_lexicon_under_another_spelling(client):
    verified_login(client, UserFactory(administrateur=True))
    response = client.post(
        reverse("admin:core_healthterm_add"), {"term": "DIABETE", "category": HealthTermCategory.MALADIE}
    )
    assert response.status_code == 200
    assert "Ce terme figure déjà dans le lexique sous la forme « diabète »" in response.content.decode()


def test_d4_the_admin_lists_searches_and_filters_the_lexicon(client):
    verified_login(client, UserFactory(administrateur=True))
    url = reverse("admin:core_healthterm_changelist")
    assert "insuline" in client.get(url, {"q": "INSULINE"}).content.decode()
    assert client.get(url, {"category__exact": "handicap", "active__exact": "1"}).status_code == 200
    change = client.get(reverse("admin:core_healthterm_change", args=[HealthTerm.objects.first().pk]))
    assert change.status_code == 200


def test_d4_a_deactivated_term_is_accepted():
    text = "Patient diabétique."
    assert refusal(text).code == "health_data"
    term = HealthTerm.objects.get(normalized="diabetique")
    term.active = False
    term.save(update_fields=["active"])
    check_free_text(text)


def test_d4_terms_deactivated_by_the_admin_action_or_deleted_are_accepted(client):
    assert refusal("VIH, sida").code == "health_data"
    verified_login(client, UserFactory(administrateur=True))
    pk = HealthTerm.objects.get(normalized="vih").pk
    response = client.post(
        reverse("admin:core_healthterm_changelist"), {"action": "deactivate", "_selected_action": [pk]}
    )
    assert response.status_code == 302
    assert find_health_terms("VIH, sida") == ["sida"]
    HealthTerm.objects.filter(normalized="sida").delete()
    check_free_text("VIH, sida")


def test_d4_the_lexicon_is_read_once_then_one_small_query_per_check(django_assert_num_queries):
    long_text = "La personne a besoin d'une attestation de droits et d'un rendez-vous. " * 200
    check_free_text(long_text)
    with django_assert_num_queries(2):  # the lexicon's fingerprint, once per check, whatever the text's length
        check_free_text(long_text)
        check_free_text("   ")  # nothing to check, no query
        with pytest.raises(ValidationError):
            check_free_text(long_text + " diabète")


def test_d4_the_normalized_form_is_computed_on_save():
    term = HealthTerm.objects.create(term="  Maladie   de  l'Œil  SEC ", category=HealthTermCategory.AUTRE)
    assert term.term == "Maladie de l'Œil SEC"
    assert term.normalized == normalize_text(term.term) == "maladie de l oeil sec"
    assert str(term) == "Maladie de l'Œil SEC"
    assert find_health_terms("une maladie de l’oeil sec") == ["Maladie de l'Œil SEC"]


@pytest.mark.parametrize(("term", "message"), [("« ! »", "au moins une lettre"), ("ﬃ" * 50, "trop long")])
def test_d4_a_term_without_letters_or_too_long_once_normalized_is_refused(term, message):
    with pytest.raises(ValidationError, match=message):
        HealthTerm(term=term, category=HealthTermCategory.AUTRE).full_clean()


def test_d4_a_nir_and_a_health_term_give_both_errors():
    error = refusal(f"{spaced(NIR)} : cancer")
    assert [item.code for item in error.error_list] == ["nir", "health_data"]


# --- Forms --------------------------------------------------------------------------------------------------


class MessageForm(forms.Form):
    message = FreeTextField(label="Votre message", widget=forms.Textarea)
    comment = forms.CharField(required=False, validators=[free_text_validator])


def test_d4_the_form_field_shows_the_error_next_to_the_field():
    form = MessageForm({"message": f"NIR {spaced(NIR)}", "comment": "Sous méthadone."})
    assert not form.is_valid()
    assert "1 84 12 ** *** *** **" in form.errors["message"][0]
    assert form.has_error("message", code="nir")
    assert form.has_error("comment", code="health_data")
    assert NIR not in str(form.errors) and spaced(NIR) not in str(form.errors)


def test_d4_the_form_field_accepts_ordinary_text_and_carries_the_reminder():
    form = MessageForm({"message": "Demande de Complémentaire santé solidaire, rendez-vous le 12/03/2026."})
    assert form.is_valid(), form.errors
    assert form.fields["message"].help_text == FREE_TEXT_HELP_TEXT
    assert form.fields["message"].is_free_text
    assert FreeTextField(help_text="Autre aide").help_text == "Autre aide"
