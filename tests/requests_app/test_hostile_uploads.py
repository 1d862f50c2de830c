"""D5 — hostile uploads at the page level: the request form's POST, the real clamd, the real storage.

Each hostile file is posted with an otherwise valid request form. A refused file gets a French message next to
the files field, what was typed stays on the page, and nothing of it reaches the private storage (nor stays in
the temporary directory). An accepted one is stored under a random name, shown under a sanitised name, and
served only as an attachment, with nosniff and its checked type — never inline, never as HTML.

The multipart bodies are written by hand (`multipart()`): Django's test client would otherwise strip the
directories from the file names before sending them, and the point is to send what an attacker sends.
"""

import io
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader, PdfWriter

from requests_app.models import Demande, DemandeKind, PieceJointe
from tests.portal.test_fuzz_forms import INSURED, build_world, signed_in
from tests.requests_app import files
from tests.requests_app.private_clamd import PrivateClamd

pytestmark = [pytest.mark.django_db, pytest.mark.clamd]

STORED_NAME = re.compile(r"pieces-jointes/\d{4}/\d{2}/[0-9a-f]{32}\.(pdf|jpg|png)")
MESSAGE = INSURED["message"]


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    """Django's temporary upload files (over 2 MB) go here, to check that none is left behind."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


@pytest.fixture
def world(db, private_media, health_lexicon, clamd_address, temp_dir):
    world = build_world()
    world.media = private_media
    world.temp = temp_dir
    world.client = signed_in(world.technicien)
    world.url = reverse("demande_new", args=[world.caisse.pk, DemandeKind.CONTACT])
    return world


def stored_files(world) -> list[str]:
    return sorted(str(path.relative_to(world.media)) for path in world.media.rglob("*") if path.is_file())


def left_in_temp(world) -> list[str]:
    return sorted(str(path) for path in world.temp.rglob("*") if path.is_file())


def multipart(fields: dict, uploads: list[tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body with the file names exactly as given (bytes of the name in UTF-8)."""
    boundary = f"----fuzz{uuid.uuid4().hex}"
    lines = []
    for name, value in fields.items():
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{name}"'.encode(),
            b"",
            str(value).encode(),
        ]
    for filename, data, content_type in uploads:
        quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="files"; filename="{quoted}"'.encode(),
            f"Content-Type: {content_type}".encode(),
            b"",
            data,
        ]
    lines += [f"--{boundary}--".encode(), b""]
    return b"\r\n".join(lines), f"multipart/form-data; boundary={boundary}"


def post_request_form(world, uploads, **overrides):
    """The contact request, valid but for its files (and `overrides`), posted as a browser would."""
    fields = {**INSURED, "form_token": str(uuid.uuid4()), **overrides}
    body, content_type = multipart(fields, uploads)
    return world.client.post(world.url, data=body, content_type=content_type)


def assert_refused_and_nothing_kept(world, response, *words):
    assert response.status_code == 200, response.status_code
    content = response.content.decode()
    errors = " ".join(response.context["form"].errors.get("files", []))
    for word in words:
        assert word in errors, (word, errors)
    assert 'value="Dupré"' in content and MESSAGE in content  # what was typed is kept
    assert not Demande.objects.exclude(pk=world.demande.pk).exists()  # nothing filed
    assert not PieceJointe.objects.exists()
    assert stored_files(world) == []
    assert left_in_temp(world) == []


def assert_served_only_as_attachment(world, piece: PieceJointe, original: bytes):
    demande = piece.demande
    response = world.client.get(reverse("piece_download", args=[demande.reference, piece.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;"), response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == piece.mime
    assert piece.mime in {"application/pdf", "image/jpeg", "image/png"}
    assert b"".join(response.streaming_content) == original


# --- Viruses (EICAR) inside each accepted format -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "build", "content_type"),
    [
        ("releve.pdf", files.pdf_with_eicar, "application/pdf"),
        ("photo.jpg", lambda: files.with_eicar(files.jpeg()), "image/jpeg"),
        ("scan.png", lambda: files.with_eicar(files.png()), "image/png"),
    ],
)
def test_d5_eicar_inside_a_pdf_jpeg_or_png_is_refused_and_nothing_is_kept(world, name, build, content_type):
    response = post_request_form(world, [(name, build(), content_type)])
    assert_refused_and_nothing_kept(world, response, f"« {name} »", "contient un virus", "Eicar", "pas été enregistré")


def test_d5_the_infected_file_is_refused_the_clean_one_beside_it_kept(world):
    response = post_request_form(
        world, [("virus.pdf", files.pdf_with_eicar(), "application/pdf"), ("sain.pdf", files.pdf(), "application/pdf")]
    )
    assert response.status_code == 200
    assert "contient un virus" in " ".join(response.context["form"].errors["files"])
    (piece,) = PieceJointe.objects.all()
    assert piece.original_name == "sain.pdf" and piece.demande is None  # staged for this form only
    assert stored_files(world) == [piece.file.name]


# --- Content that is not what its name says ------------------------------------------------------------


def pdf_with_html_payload() -> bytes:
    """A real PDF carrying an HTML page with a script: in a comment right after the header (where a browser
    sniffing the first bytes would see it), in the page's content stream and as an embedded file."""
    payload = b"<html><body><script>alert(document.cookie)</script></body></html>"
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    from pypdf.generic import DecodedStreamObject, NameObject

    stream = DecodedStreamObject()
    stream.set_data(b"% " + payload + b"\n")
    page[NameObject("/Contents")] = writer._add_object(stream)
    writer.add_attachment("page.html", payload)
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    header, rest = data.split(b"\n", 1)
    return header + b"\n%" + payload + b"\n" + rest


def test_d5_a_pdf_with_an_html_payload_is_only_ever_served_as_a_pdf_attachment(world):
    data = pdf_with_html_payload()
    assert b"<script>" in data[:200] and len(PdfReader(io.BytesIO(data)).pages) == 1
    response = post_request_form(world, [("facture.pdf", data, "text/html")])
    if response.status_code == 200:  # refused: then as any refusal, in French and with nothing kept
        assert_refused_and_nothing_kept(world, response, "« facture.pdf »")
        return
    assert response.status_code == 302
    piece = PieceJointe.objects.get()
    assert (piece.mime, piece.original_name) == ("application/pdf", "facture.pdf")
    assert STORED_NAME.fullmatch(piece.file.name)
    assert_served_only_as_attachment(world, piece, data)


@pytest.mark.parametrize(
    ("name", "build", "detected"),
    [
        ("dessin.pdf", files.svg, "image/svg+xml"),
        ("facture.pdf", files.html, "text/html"),
        ("facture.png", files.html, "text/html"),
    ],
)
def test_d5_an_svg_or_html_renamed_pdf_is_refused_by_its_content(world, name, build, detected):
    response = post_request_form(world, [(name, build(), "application/pdf")])
    assert_refused_and_nothing_kept(world, response, f"« {name} »", f"type détecté : {detected}", "PDF", "JPEG ou PNG")


def test_d5_a_jpeg_named_pdf_is_refused_for_its_extension(world):
    response = post_request_form(world, [("photo.pdf", files.jpeg(), "application/pdf")])
    assert_refused_and_nothing_kept(world, response, "« photo.pdf »", "image JPEG", "extension", ".jpg ou .jpeg")


# --- Names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("../../../../etc/cron.d/justificatif.pdf", "justificatif.pdf"),
        ("..\\..\\Windows\\System32\\justificatif.pdf", "justificatif.pdf"),
        ("justifi\x00catif.pdf", "justificatif.pdf"),
        ("justificatif\u202efdp.pdf", "justificatiffdp.pdf"),
        ("<img src=x onerror=alert(1)>.pdf", None),
        ("a" * 300 + ".pdf", "a" * 115 + "….pdf"),
    ],
    ids=["dot-dot-slash", "dot-dot-backslash", "nul", "rtl-override", "html", "300-characters"],
)
def test_d5_hostile_file_names_get_a_random_stored_name_and_a_sanitised_shown_name(world, sent, shown):
    data = files.pdf()
    response = post_request_form(world, [(sent, data, "application/pdf")])
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    piece = PieceJointe.objects.get()
    assert STORED_NAME.fullmatch(piece.file.name), piece.file.name  # the sent name never reaches the disk
    assert stored_files(world) == [piece.file.name]
    name = piece.original_name
    assert len(name) <= 120 and name.endswith(".pdf")
    assert not re.search(r"[/\\\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]", name) and ".." not in name, repr(name)
    if shown is not None:
        assert name == shown
    page = world.client.get(reverse("demande_detail", args=[piece.demande.reference])).content.decode()
    assert "<img src=x" not in page and "\x00" not in page
    assert_served_only_as_attachment(world, piece, data)


# --- Sizes and bombs ----------------------------------------------------------------------------------


def test_d5_a_zero_byte_file_is_refused(world):
    response = post_request_form(world, [("vide.pdf", b"", "application/pdf")])
    assert_refused_and_nothing_kept(world, response, "« vide.pdf » est vide")
    assert len(response.context["form"].errors["files"]) == 1  # one message, not the field's and the check's


def test_d5_files_beyond_the_count_are_named_and_the_others_kept(world, settings):
    """Six files chosen at once for five places: the sixth is named as not attached, the five are kept (staged
    for the form) and the form says so; nothing is filed while the form has an error."""
    chosen = [(f"justificatif-{n}.pdf", files.pdf(pages=n), "application/pdf") for n in range(1, 7)]
    response = post_request_form(world, chosen)
    errors = response.context["form"].errors["files"]
    assert errors == [
        "« justificatif-6.pdf » n'a pas été joint : une demande comporte au plus 5 pièces jointes. Les 5 déjà "
        "jointes sont conservées ; pour joindre celui-ci, retirez d'abord l'une d'elles."
    ]
    kept = sorted(PieceJointe.objects.values_list("original_name", flat=True))
    assert kept == [f"justificatif-{n}.pdf" for n in range(1, 6)]
    assert not Demande.objects.exclude(pk=world.demande.pk).exists()


def test_d5_a_file_of_10_mb_and_1_byte_is_refused_and_leaves_nothing_behind(world, settings):
    data = files.oversized()
    assert len(data) == 10 * 1024 * 1024 + 1 == settings.ATTACHMENT_MAX_BYTES + 1
    response = post_request_form(world, [("gros.pdf", data, "application/pdf")])
    assert_refused_and_nothing_kept(world, response, "« gros.pdf »", "taille maximale de 10 Mo")


def test_d5_a_decompression_bomb_png_is_refused_before_decoding(world):
    data = files.png_bomb()
    assert len(data) < 100_000  # 20 000 × 20 000 pixels
    response = post_request_form(world, [("bombe.png", data, "image/png")])
    assert_refused_and_nothing_kept(world, response, "« bombe.png »", "dimensions démesurées")


# --- What passes is stored scanned, under a random name, and only downloaded --------------------------------


@pytest.mark.parametrize(
    ("name", "build", "mime"),
    [
        ("justificatif.pdf", files.pdf, "application/pdf"),
        ("photo.jpg", files.jpeg, "image/jpeg"),
        ("scan.png", files.png, "image/png"),
    ],
)
def test_d5_clean_files_are_stored_under_random_names_and_served_only_as_attachments(world, name, build, mime):
    data = build()
    response = post_request_form(world, [(name, data, "text/html")])  # the browser's claimed type is ignored
    assert response.status_code == 302
    piece = PieceJointe.objects.get()
    assert (piece.mime, piece.original_name, piece.size) == (mime, name, len(data))
    assert STORED_NAME.fullmatch(piece.file.name) and stored_files(world) == [piece.file.name]
    assert (world.media / piece.file.name).read_bytes() == data
    assert left_in_temp(world) == []
    assert_served_only_as_attachment(world, piece, data)


def test_d5_the_reply_form_refuses_a_virus_too(world):
    url = reverse("demande_reply", args=[world.demande.reference])
    body, content_type = multipart(
        {"body": "Voici le complément.", "form_token": str(uuid.uuid4())},
        [("complement.pdf", files.pdf_with_eicar(), "application/pdf")],
    )
    response = world.client.post(url, data=body, content_type=content_type)
    assert response.status_code == 200
    assert "contient un virus" in " ".join(response.context["form"].errors["files"])
    assert "Voici le complément." in response.content.decode()
    assert not PieceJointe.objects.exists() and stored_files(world) == []
    assert world.demande.messages.count() == 1


# --- clamd stopped, then started again (D5) ----------------------------------------------------


@pytest.fixture
def private_clamd(clamd_address, tmp_path, settings):  # clamd_address: the suite's check (skip, CI fail)
    binary = shutil.which("clamd") or ("/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None)
    if binary is None:
        pytest.skip("clamd introuvable : le test arrête et relance un clamd à lui")
    clamd = PrivateClamd(binary, tmp_path / "clamd")
    clamd.start()
    settings.CLAMD_HOST, settings.CLAMD_PORT = "127.0.0.1", clamd.port
    yield clamd
    if clamd.process.poll() is None:
        clamd.stop()


def test_d5_clamd_stopped_refuses_uploads_only_and_started_again_accepts_them(world, private_clamd):
    pdf = ("justificatif.pdf", files.pdf(), "application/pdf")

    private_clamd.stop()
    response = post_request_form(world, [pdf])
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get("files", []))
    assert "réessayez" in errors.lower(), errors
    content = response.content.decode()
    assert 'value="Dupré"' in content and MESSAGE in content  # what was typed is kept
    assert not Demande.objects.exclude(pk=world.demande.pk).exists()
    assert not PieceJointe.objects.exists() and stored_files(world) == []
    # Nothing else breaks: the history, the request's page, the form without a file.
    assert world.client.get(reverse("demandes")).status_code == 200
    assert world.client.get(reverse("demande_detail", args=[world.demande.reference])).status_code == 200
    assert post_request_form(world, []).status_code == 302

    private_clamd.start()
    response = post_request_form(world, [pdf])
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert PieceJointe.objects.count() == 1 and len(stored_files(world)) == 1
