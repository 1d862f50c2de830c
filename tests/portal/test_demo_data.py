"""The demo data: idempotent, with one login per profile, refused when DEBUG is off."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Profile, User
from conventions import access
from conventions.models import Caisse, CanalSecours, ConventionMetier, Partenaire, Referent, Service
from requests_app.models import Demande, DemandeKind, Message, ReponseType, Side, Ticket, TicketState, unread_q

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Caisse, Referent, Partenaire, ConventionMetier, User, Ticket, CanalSecours)]


def test_demo_data_is_idempotent_and_matches_the_convention(settings):
    settings.DEBUG = True
    call_command("load_demo_data", stdout=StringIO())
    first = counts()
    call_command("load_demo_data", stdout=StringIO())
    assert counts() == first

    wattrelos = Partenaire.objects.get(name="CCAS de Wattrelos")
    assert wattrelos.member_count == 13
    convention = wattrelos.conventions_metier.get().convention_utilisation
    assert convention.signed_on.isoformat() == "2023-09-30"
    assert "58" in convention.deliberation_reference
    assert len(convention.enabled_services) == 6
    assert [c.name for c in access.caisses_accessible(wattrelos)] == ["CPAM de Roubaix-Tourcoing"]
    assert {u.profile for u in User.objects.filter(is_demo=True)} == set(Profile)


def test_p7_p8_demo_referent_agent_open_ticket_and_fallback_channels(settings):
    settings.DEBUG = True
    call_command("load_demo_data", stdout=StringIO())
    roubaix = Caisse.objects.get(name="CPAM de Roubaix-Tourcoing")
    referent = Referent.objects.get(caisse=roubaix, role="Chargé de mission Accès aux droits et aux soins")
    assert referent.agent.username == "demo.referent" and referent.agent.caisse == roubaix
    assert referent.agent.profile == Profile.AGENT
    ticket = Ticket.objects.get()
    assert ticket.caisse == roubaix and ticket.state == TicketState.NOUVEAU
    for caisse in Caisse.objects.all():
        assert {c.service for c in caisse.canaux_secours.all()} == {s.value for s in Service}


def test_demo_data_is_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo_data")
    assert not User.objects.exists()


def test_demo_logins_are_refused_when_debug_is_off(settings, client):
    settings.DEBUG = True
    call_command("load_demo_data", stdout=StringIO())
    assert client.login(username="demo.technicien", password=settings.DEMO_PASSWORD)
    client.logout()
    settings.DEBUG = False
    assert not client.login(username="demo.technicien", password=settings.DEMO_PASSWORD)


def test_demo_data_has_an_unread_answer_for_the_technicien_and_canned_replies(settings):
    settings.DEBUG = True
    call_command("load_demo_data", stdout=StringIO())
    call_command("load_demo_data", stdout=StringIO())  # still one answer, still two replies
    technicien = User.objects.get(username="demo.technicien")
    unread = Demande.objects.visible_to(technicien).filter(unread_q(technicien))
    assert [d.kind for d in unread] == [DemandeKind.CONTACT]
    assert Message.objects.filter(side=Side.CAISSE).count() == 1
    assert {(r.caisse.code if r.caisse else None, r.title) for r in ReponseType.objects.all()} == {
        (None, "Accusé de réception"),
        ("597", "Pièce justificative manquante"),
    }
