"""Edge cases of several rules — races, hostile input, local holidays — each test named after its rule."""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone

from accounts import invitations
from accounts.models import AccountState, HabilitationReview, InactivationReason, TokenPurpose, User
from accounts.permissions import sync_agent_group
from conventions.models import Partenaire
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import ConventionUtilisationFactory, DomaineEmailFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    user = UserFactory(agent=True)
    user.groups.add(sync_agent_group())
    return user


def test_p4_history_pages_are_scoped_and_never_restore_a_version(client, agent):
    from accounts import services

    other = UserFactory(partenaire=ConventionUtilisationFactory().convention_metier.partenaire)  # another caisse
    services.inactivate_account(other, reason=InactivationReason.FRAUD)
    verified_login(client, agent)
    assert client.get(reverse("admin:accounts_user_history", args=[other.pk])).status_code == 404
    version = other.history.order_by("history_id").first()
    url = reverse("admin:accounts_user_simple_history", args=[other.pk, version.history_id])
    assert client.post(url, {}).status_code == 404
    own = ConventionUtilisationFactory(convention_metier__caisse=agent.caisse).convention_metier.partenaire
    own.member_count = 40
    own.save()
    first = own.history.order_by("history_id").first()
    url = reverse("admin:conventions_partenaire_simple_history", args=[own.pk, first.history_id])
    assert client.get(url).status_code == 200
    assert client.post(url, {"member_count": "13"}).status_code == 403
    own.refresh_from_db()
    assert own.member_count == 40


def test_a17_gate_pages_do_not_open_before_the_second_factor(client):
    user = UserFactory(password="Ancien-Passe-2020")
    user.password_changed_at = timezone.now() - timedelta(days=400)
    user.save()
    client.force_login(user)  # password only, no second factor yet
    response = client.post(
        reverse("password_expired"),
        {
            "old_password": "Ancien-Passe-2020",
            "new_password1": "Nouveau-Passe-2026",
            "new_password2": "Nouveau-Passe-2026",
        },
    )
    assert response.status_code == 302 and "/2fa/" in response.url
    user.refresh_from_db()
    assert user.check_password("Ancien-Passe-2020")
    assert "/2fa/" in client.post(reverse("cgu"), {"accept": "on"}).url


@pytest.mark.django_db(transaction=True)
def test_a7_one_link_used_twice_at_once_works_once(django_capture_on_commit_callbacks):
    user = UserFactory(password="Ancien-Passe-2020")
    secret = invitations._issue(user, TokenPurpose.RESET)
    barrier = threading.Barrier(2)
    outcomes = []

    def reset(n):
        try:
            barrier.wait(timeout=10)
            invitations.reset_password(secret, f"Nouveau-Passe-202{n}")
            outcomes.append("reset")
        except invitations.TokenError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=reset, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    close_old_connections()
    assert sorted(outcomes) == ["refused", "reset"]


def test_a5_habilitation_request_form_refuses_a_webmail_without_a_500(client, agent):
    partenaire = ConventionUtilisationFactory(convention_metier__caisse=agent.caisse).convention_metier.partenaire
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    verified_login(client, agent)
    data = {
        "partenaire": partenaire.pk,
        "civilite": "m",
        "last_name": "X",
        "first_name": "Y",
        "job_title": "Z",
        "phone": "01",
        "email": "x@gmail.com",
        "received_on": "26/11/2026",
    }
    response = client.post(reverse("admin:accounts_habilitationrequest_add"), data)
    assert response.status_code == 200
    assert "messagerie personnelle" in response.content.decode()


def test_a16_review_form_refuses_a_past_date_without_a_500(client, agent):
    partenaire = ConventionUtilisationFactory(convention_metier__caisse=agent.caisse).convention_metier.partenaire
    verified_login(client, agent)
    yesterday = (timezone.localdate() - timedelta(days=1)).strftime("%d/%m/%Y")
    response = client.post(
        reverse("admin:accounts_habilitationreview_add"), {"partenaire": partenaire.pk, "due_on": yesterday}
    )
    assert response.status_code == 200
    assert "ne peut pas être passée" in response.content.decode()
    assert not HabilitationReview.objects.exists()


def test_a16_csv_export_neutralises_formulas(client):
    partenaire = ConventionUtilisationFactory().convention_metier.partenaire
    gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire)
    UserFactory(partenaire=partenaire, last_name='=HYPERLINK("http://x")')
    verified_login(client, gestionnaire)
    content = b"".join(client.get(reverse("accounts_export")).streaming_content).decode()
    assert "'=HYPERLINK" in content and ";=HYPERLINK" not in content and ';"=HYPERLINK' not in content


def test_a5_working_days_in_alsace_moselle_skip_good_friday():
    from datetime import date

    from core.working_days import add_working_days

    # Good Friday 2027 is 26 March: a holiday in Moselle, a working day elsewhere (Easter Monday is for all).
    assert add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 26)
    assert add_working_days(date(2027, 3, 25), 1, "57") == date(2027, 3, 30)


def test_a1_same_name_in_two_structures_gets_two_logins():
    from accounts import services

    identities = []
    for domain in ("a.example", "b.example"):
        convention = ConventionUtilisationFactory()
        partenaire = convention.convention_metier.partenaire
        DomaineEmailFactory(partenaire=partenaire, domain=domain)
        gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire)
        identities.append(
            services.create_technicien(
                gestionnaire,
                {
                    "civilite": "mme",
                    "last_name": "Martin",
                    "first_name": "Léa",
                    "job_title": "CESF",
                    "phone": "01",
                    "email": f"lea@{domain}",
                },
            )
        )
    assert {u.username for u in identities} == {"lea.martin", "lea.martin2"}
    assert User.objects.filter(state=AccountState.INVITE).count() == 2
    assert Partenaire.objects.count() == 2
