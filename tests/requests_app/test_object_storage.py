"""D5 on the S3 object store (several web nodes share no disk): the real SeaweedFS of scripts/services.sh, a bucket
per test session, the portal's own storage settings (core.object_storage). No mock of the store: a wrong credential
is a wrong key sent to the real server, the store down is a port where nothing listens."""

import pytest
from django.urls import reverse

from core.models import Action, JournalEntry
from requests_app import services
from requests_app.models import Demande, DemandeKind, PieceJointe
from tests.accounts.factories import UserFactory
from tests.conftest import free_port, verified_login
from tests.conventions.factories import partner_with_access
from tests.requests_app.test_demandes import clean_pdf, post_demande

pytestmark = [pytest.mark.django_db, pytest.mark.s3]


@pytest.fixture
def convention():
    return partner_with_access()


@pytest.fixture
def technicien(client, convention):
    user = UserFactory(partenaire=convention.convention_metier.partenaire, email="lea@structure.example")
    verified_login(client, user)
    return user


def test_d5_an_upload_is_written_to_the_bucket_and_read_back_through_the_view(
    client, convention, technicien, object_storage
):
    sent = clean_pdf()
    response = post_demande(client, convention, DemandeKind.CONTACT, files=[sent])
    assert response.status_code == 302
    piece = Demande.objects.get().pieces.get()
    assert object_storage.keys() == [piece.file.name]
    sent.seek(0)
    assert object_storage.read(piece.file.name) == sent.read()

    download = client.get(reverse("piece_download", args=[piece.demande.reference, piece.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == object_storage.read(piece.file.name)
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Cache-Control"] == "private, no-store"
    assert JournalEntry.objects.filter(action=Action.PIECE_JOINTE_READ, actor=technicien).count() == 1


def test_d5_the_object_is_private_no_anonymous_read(client, convention, technicien, object_storage):
    import urllib.error
    import urllib.request

    post_demande(client, convention, DemandeKind.CONTACT, files=[clean_pdf()])
    key = PieceJointe.objects.get().file.name
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{object_storage.endpoint_url}/{object_storage.name}/{key}", timeout=5)  # noqa: S310
    refused.value.close()
    assert refused.value.code == 403


def test_d5_removing_a_staged_file_or_purging_an_abandoned_one_deletes_its_object(
    client, convention, technicien, object_storage
):
    from datetime import timedelta

    from django.utils import timezone

    url = reverse("demande_new", args=[convention.convention_metier.caisse_id, DemandeKind.CONTACT])
    token = client.get(url).context["form"].initial["form_token"]
    client.post(url, {"form_token": token, "files": [clean_pdf("a.pdf")]})  # refused form: the file stays staged
    piece = PieceJointe.objects.get()
    assert object_storage.keys() == [piece.file.name]
    services.unstage(technicien, token, [piece.pk])
    assert object_storage.keys() == [] and not PieceJointe.objects.exists()

    client.post(url, {"form_token": token, "files": [clean_pdf("b.pdf")]})
    PieceJointe.objects.update(uploaded_at=timezone.now() - timedelta(days=2))
    assert len(object_storage.keys()) == 1
    assert services.purge_staged_pieces() == 1
    assert object_storage.keys() == []


def test_d5_a_wrong_credential_refuses_the_file_keeps_the_typing_and_saves_nothing(
    client, convention, technicien, object_storage, settings
):
    settings.STORAGES = {**settings.STORAGES, "default": object_storage.storage(secret_key="not-the-secret")}
    response = post_demande(client, convention, DemandeKind.CONTACT, files=[clean_pdf()])
    assert response.status_code == 200
    content = response.content.decode()
    assert "le stockage des documents est momentanément indisponible" in content
    assert 'value="Dupré"' in content and "Merci de nous rappeler." in content
    assert not Demande.objects.exists() and not PieceJointe.objects.exists()
    assert object_storage.keys() == []


def test_d5_the_store_down_refuses_the_file_in_french_and_pages_without_files_keep_working(
    client, convention, technicien, object_storage, settings
):
    from tests.requests_app.test_demandes import file_one

    demande = file_one(technicien, convention)  # filed without a file while the store was up
    settings.STORAGES = {
        **settings.STORAGES,
        "default": object_storage.storage(endpoint_url=f"http://127.0.0.1:{free_port()}"),
    }
    response = post_demande(client, convention, DemandeKind.CONTACT, files=[clean_pdf()])
    assert response.status_code == 200
    content = response.content.decode()
    assert "pas pu être enregistré" in content and "Réessayez dans quelques minutes" in content
    assert 'value="Dupré"' in content
    assert Demande.objects.count() == 1 and not PieceJointe.objects.exists()

    for page in (reverse("demande_detail", args=[demande.reference]), reverse("demandes"), reverse("home")):
        assert client.get(page).status_code == 200, page


def test_d5_a_download_while_the_store_is_down_is_a_french_503_and_journals_no_read(
    client, convention, technicien, object_storage, settings
):
    post_demande(client, convention, DemandeKind.CONTACT, files=[clean_pdf()])
    piece = PieceJointe.objects.get()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": object_storage.storage(endpoint_url=f"http://127.0.0.1:{free_port()}"),
    }
    response = client.get(reverse("piece_download", args=[piece.demande.reference, piece.pk]))
    assert response.status_code == 503
    assert "momentanément indisponible" in response.content.decode()
    assert not JournalEntry.objects.filter(action=Action.PIECE_JOINTE_READ).exists()


@pytest.mark.clamd
def test_d5_an_infected_file_never_reaches_the_bucket(client, convention, technicien, object_storage, clamd_address):
    from tests.requests_app.files import pdf_with_eicar, upload

    response = post_demande(
        client, convention, DemandeKind.CONTACT, files=[upload("releve.pdf", pdf_with_eicar(), "application/pdf")]
    )
    assert response.status_code == 200 and "virus" in response.content.decode()
    assert object_storage.keys() == [] and not PieceJointe.objects.exists()
