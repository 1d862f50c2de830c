"""P5 (RGAA 11.10): every portal form submitted with errors announces them — one summary at the top of the page
(core.templatetags.form_errors + base.html), each error a link to its field, the form's own errors first, the
<title> prefixed with "Erreur : " — and birth dates are typed JJ/MM/AAAA, parsed and checked on the server (D3)."""

import re
from datetime import date, timedelta

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from requests_app.models import Demande, DemandeKind
from tests.conftest import verified_login
from tests.portal.test_access_matrix import (
    POST_BODIES,
    POST_EXPECTED,
    Writes,
    concrete_path,
    resolver_urls,
    send,
    sign_in,
    world,  # noqa: F401 (the matrix's fixture)
)

pytestmark = pytest.mark.django_db

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
# The portal's forms, each posted empty (or with its hidden token alone) by a profile that reaches it.
FORM_PAGES = {
    ("anonyme", "login"),
    ("anonyme", "password_reset"),
    ("technicien", "demande_new"),
    ("technicien", "demande_reply"),
    ("technicien", "incident_report"),
    ("technicien", "password_change"),
    ("technicien", "password_expired"),
    ("technicien", "cgu"),
    ("gestionnaire", "habilitation_request"),
    ("gestionnaire", "technicien_create"),
    ("gestionnaire", "technicien_inactivate"),
    ("gestionnaire", "gestionnaire_inactivation"),
    ("technicien_sans_2fa", "two_factor_verify"),
}
# An empty POST leaves a `Form(request.POST or None)` unbound: an unknown field binds it, with nothing filled in.
BLANK = {"champ_inconnu": ""}


def title_of(response) -> str:
    return TITLE.search(response.content.decode()).group(1).strip()


def bound_forms_with_errors(response) -> list[forms.BaseForm]:
    found = []
    for context in response.context or []:
        for value in context.flatten().values():
            if isinstance(value, forms.BaseForm) and value.is_bound and value.errors and value not in found:
                found.append(value)
    return found


@pytest.mark.parametrize("profile", ["anonyme", "technicien", "gestionnaire", "technicien_sans_2fa"])
def test_p5_every_portal_form_posted_empty_has_the_summary_and_the_title(client, world, profile):  # noqa: F811
    sign_in(client, world, profile)
    announced, silent = set(), []
    for key, (route, pattern) in sorted(resolver_urls().items()):
        if key.startswith("admin") or POST_EXPECTED[key][profile] != 200:
            continue
        path = concrete_path(key, route, pattern, world)
        # As the matrix sends it: undone afterwards, cookies included (a form may end the session).
        response, body, _ = send(client, "POST", path, {**BLANK, **POST_BODIES.get(key, {})}, Writes())
        if not bound_forms_with_errors(response):
            continue
        announced.add((profile, key))
        if not title_of(response).startswith("Erreur : ") or b'id="resume-erreurs"' not in body:
            silent.append(key)
    assert not silent, f"Formulaires en erreur sans résumé ni titre « Erreur : » : {silent}"
    expected = {case for case in FORM_PAGES if case[0] == profile}
    assert expected <= announced, f"Formulaires non vus en erreur : {sorted(expected - announced)}"


def test_p5_a_page_without_errors_has_neither_summary_nor_error_title(client, world):  # noqa: F811
    verified_login(client, world["users"]["technicien"])
    response = client.get(reverse("incident_report"))
    assert not title_of(response).startswith("Erreur")
    assert "resume-erreurs" not in response.content.decode()
    assert "error-summary.js" not in response.content.decode()


class _Sample(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    civilite = forms.ChoiceField(label="Civilité", choices=[("m", "M."), ("mme", "Mme")], widget=forms.RadioSelect)
    name = forms.CharField(label="Nom")

    def clean(self):
        raise forms.ValidationError("Le formulaire a expiré.")


def test_p5_summary_lists_the_form_errors_first_then_each_field_as_a_link_in_field_order():
    form = _Sample(data={})
    html = Template(
        '{% load form_errors %}{% form_error_summary as form_errors %}{% include "portal/_error_summary.html" %}'
    )
    rendered = html.render(Context({"form": form, "other": _Sample()}))  # the unbound form adds nothing
    items = re.findall(r"<li>(.*?)</li>", rendered, re.S)
    assert [re.sub(r"\s+", " ", item).strip() for item in items] == [
        "Le formulaire a expiré.",
        "Ce champ est obligatoire.",  # the hidden token's: no field to go to, not a link
        '<a href="#id_civilite_0">Civilité : Ce champ est obligatoire.</a>',
        '<a href="#id_name">Nom : Ce champ est obligatoire.</a>',
    ]
    assert "Le formulaire comporte 4 erreurs" in rendered
    assert 'tabindex="-1"' in rendered


# --- Birth dates, typed (D3) ---------------------------------------------------------------------------------


@pytest.fixture
def technicien(client, world):  # noqa: F811
    verified_login(client, world["users"]["technicien"])
    return world["users"]["technicien"]


def post_contact(client, world, birth_date):  # noqa: F811 (the matrix world)
    url = reverse("demande_new", args=[world["parameters"]["caisse_id"], DemandeKind.CONTACT.value])
    token = client.get(url).context["form"].initial["form_token"]
    data = {
        "form_token": token,
        "assure_civilite": "mme",
        "assure_last_name": "Dupré",
        "assure_first_name": "Éloïse",
        "assure_birth_date": birth_date,
        "assure_departement": "59",
        "message": "Merci de nous rappeler.",
    }
    return client.post(url, data)


def test_d3_birth_date_is_a_text_field_with_the_expected_format(client, world, technicien):  # noqa: F811
    url = reverse("demande_new", args=[world["parameters"]["caisse_id"], DemandeKind.CONTACT.value])
    body = client.get(url).content.decode()
    field = re.search(r'<input[^>]*name="assure_birth_date"[^>]*>', body).group(0)
    assert 'type="text"' in field
    assert 'inputmode="numeric"' in field
    assert "Format attendu : JJ/MM/AAAA" in body


@pytest.mark.parametrize("typed", ["12/03/1984", "12-03-1984", " 12.03.1984 ", "1984-03-12"])
def test_d3_birth_date_typed_jj_mm_aaaa_is_stored(client, world, technicien, typed):  # noqa: F811
    before = set(Demande.objects.values_list("pk", flat=True))
    response = post_contact(client, world, typed)
    assert response.status_code == 302
    demande = Demande.objects.exclude(pk__in=before).get()
    assert demande.assure_birth_date == date(1984, 3, 12)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31/02/1990", "Cette date n&#x27;existe pas : vérifiez le jour et le mois"),
        ("12/13/1984", "Cette date n&#x27;existe pas"),
        ("12/03/84", "Indiquez l&#x27;année sur 4 chiffres"),
        ("le 12 mars", "Saisissez la date au format JJ/MM/AAAA"),
        ("03/12/1884", "antérieure à 1900"),
        ((timezone.localdate() + timedelta(days=1)).strftime("%d/%m/%Y"), "ne peut pas être dans le futur"),
    ],
)
def test_d3_wrong_birth_date_is_refused_with_its_reason_and_kept(client, world, technicien, typed, message):  # noqa: F811
    before = Demande.objects.count()
    response = post_contact(client, world, typed)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert body.count(message) == 2  # under the field and in the summary
    assert f'value="{typed.strip()}"' in body  # what was typed stays
    assert title_of(response).startswith("Erreur : ")
    assert Demande.objects.count() == before
