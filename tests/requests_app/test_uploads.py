"""D5 — attachments: type from content, size and count limits, antivirus (the real clamd), readability, storage.

The antivirus tests talk to the real clamd of scripts/services.sh (one EICAR signature): the `clamd_address`
fixture skips them when it does not answer, and CI=true turns such skips into failures. Refusals that must
happen before any scan run with clamd pointed at a closed port: had a scan been attempted, the message would be
the "antivirus unavailable" one instead.
"""

import hashlib
import re
import socket
import tempfile
import threading

import pytest
from django.core.exceptions import SuspiciousFileOperation, ValidationError

from core import antivirus
from core.uploads import (
    CheckedFile,
    check_count,
    check_upload,
    content_type_for,
    delete_stored,
    display_name,
    open_stored,
    store,
)
from tests.conftest import free_port
from tests.requests_app import files

UNAVAILABLE = (
    "L'analyse antivirus est momentanément indisponible : réessayez dans quelques minutes. "
    "Le reste de votre saisie est conservé."
)
SIGNATURE = "Eicar-Test-Signature"


def refusal(upload) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check_upload(upload)
    return caught.value


def message(error: ValidationError) -> str:
    (text,) = error.messages
    return text


@pytest.fixture
def clamd_down(settings):
    """clamd pointed at a port where nothing listens."""
    settings.CLAMD_HOST = "127.0.0.1"
    settings.CLAMD_PORT = free_port()
    return settings.CLAMD_PORT


@pytest.fixture
def disk(settings, tmp_path, monkeypatch):
    """The private storage and the temporary directory moved under tmp_path, to watch every write."""
    media = tmp_path / "private-media"
    temp = tmp_path / "tmp"
    media.mkdir()
    temp.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}},
    }
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    class Disk:
        def written(self) -> list[str]:
            return sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())

    Disk.media = media
    return Disk()


# --- antivirus interface (real clamd) --------------------------------------------------------------------


@pytest.mark.clamd
def test_d5_scan_finds_eicar_and_passes_clean_data(clamd_address):
    assert antivirus.scan(files.pdf()) is None
    assert antivirus.scan(b"Bonjour") is None
    with pytest.raises(antivirus.Infected) as found:
        antivirus.scan(b"avant " + files.eicar() + b" apres")
    assert found.value.signature.startswith(SIGNATURE)


def test_d5_scan_fails_closed_when_clamd_is_unreachable(clamd_down):
    with pytest.raises(antivirus.ScannerUnavailable):
        antivirus.scan(files.pdf())


@pytest.mark.clamd
def test_d5_scan_refuses_data_over_the_stream_limit_before_sending(clamd_address, settings):
    settings.CLAMD_STREAM_MAX_BYTES = 1000
    with pytest.raises(antivirus.ScannerUnavailable, match="limite de flux"):
        antivirus.scan(b"x" * 1001)
    assert antivirus.scan(b"x" * 1000) is None


@pytest.mark.clamd
def test_d5_scan_fails_closed_when_clamd_cuts_an_overlong_stream(clamd_address, settings):
    # Our limit raised above the daemon's StreamMaxLength (25M): clamd refuses or resets, never "OK".
    settings.CLAMD_STREAM_MAX_BYTES = 64 * 1024 * 1024
    with pytest.raises(antivirus.ScannerUnavailable):
        antivirus.scan(b"\0" * (26 * 1024 * 1024))


class NotClamd:
    """A TCP server that is not clamd (a broken or hung daemon): only to prove `scan` fails closed on replies
    the real clamd cannot be made to send. Every real scan in this file goes to the real clamd."""

    def __init__(self, behaviour: str):
        self.behaviour = behaviour
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.release = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        connection, _ = self.server.accept()
        with connection:
            if self.behaviour == "hang up":
                return
            connection.settimeout(5)
            received = b""
            while not received.endswith(b"\0\0\0\0"):  # read the whole stream, up to its terminating chunk
                chunk = connection.recv(65536)
                if not chunk:
                    return
                received += chunk
            replies = {"garbage": b"HELLO\n", "error": b"stream: Can't allocate memory ERROR\n", "silent": b""}
            connection.sendall(replies[self.behaviour])
            self.release.wait(5)

    def close(self):
        self.release.set()
        self.thread.join(5)
        self.server.close()


@pytest.mark.parametrize("behaviour", ["hang up", "garbage", "error", "silent"])
def test_d5_scan_fails_closed_on_anything_but_a_clear_answer(settings, behaviour):
    fake = NotClamd(behaviour)
    settings.CLAMD_HOST, settings.CLAMD_PORT, settings.CLAMD_TIMEOUT = "127.0.0.1", fake.port, 1
    try:
        with pytest.raises(antivirus.ScannerUnavailable):
            antivirus.scan(files.pdf())
    finally:
        fake.close()


# --- antivirus in check_upload (real clamd) -------------------------------------------------------------


@pytest.mark.clamd
@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("attestation.pdf", files.pdf_with_eicar),
        ("photo.jpg", lambda: files.with_eicar(files.jpeg())),
        ("scan.png", lambda: files.with_eicar(files.png())),
    ],
)
def test_d5_eicar_is_refused_and_nothing_is_kept(clamd_address, disk, name, build):
    error = refusal(files.upload(name, build()))
    assert error.code == "infected"
    text = message(error)
    assert f"« {name} »" in text
    assert f"le fichier contient un virus ({SIGNATURE}" in text
    assert "il n'a pas été enregistré" in text
    assert disk.written() == []


@pytest.mark.clamd
@pytest.mark.parametrize(
    ("name", "build", "kind", "mime"),
    [
        ("justificatif.pdf", files.pdf, "pdf", "application/pdf"),
        ("justificatif-3-pages.PDF", lambda: files.pdf(pages=3), "pdf", "application/pdf"),
        ("photo.jpg", files.jpeg, "jpeg", "image/jpeg"),
        ("photo.JPEG", files.jpeg, "jpeg", "image/jpeg"),
        ("progressif.jpeg", lambda: files.jpeg(progressive=True), "jpeg", "image/jpeg"),
        ("cmjn.jpg", lambda: files.jpeg(mode="CMYK"), "jpeg", "image/jpeg"),
        ("scan.png", files.png, "png", "image/png"),
        ("bandeau.png", lambda: files.png((1000, 300)), "png", "image/png"),
    ],
)
def test_d5_clean_pdf_jpeg_png_pass(clamd_address, disk, name, build, kind, mime):
    data = build()
    # The browser's claimed type is irrelevant: only the content counts.
    checked = check_upload(files.upload(name, data, content_type="text/plain"))
    assert checked == CheckedFile(
        content=data, kind=kind, mime=mime, size=len(data), original_name=name, sha256=hashlib.sha256(data).hexdigest()
    )
    assert disk.written() == []  # checking writes nothing


def test_d5_clamd_unreachable_refuses_with_retry_message(clamd_down, disk):
    error = refusal(files.upload("justificatif.pdf", files.pdf()))
    assert error.code == "antivirus_unavailable"
    assert "« justificatif.pdf »" in message(error)
    assert UNAVAILABLE in message(error)
    assert disk.written() == []


# --- type and extension (decided before any scan: clamd is down in these tests) ----------------------------


def test_d5_renamed_html_is_refused_by_its_content(clamd_down, disk):
    error = refusal(files.upload("facture.pdf", files.html(), content_type="application/pdf"))
    assert error.code == "type"
    assert "« facture.pdf »" in message(error)
    assert "text/html" in message(error)
    assert "PDF" in message(error) and "JPEG ou PNG" in message(error)
    assert disk.written() == []


@pytest.mark.parametrize("name", ["dessin.svg", "dessin.png"])
def test_d5_svg_is_refused(clamd_down, name):
    error = refusal(files.upload(name, files.svg(), content_type="image/png"))
    assert error.code == "type"
    assert "image/svg+xml" in message(error)


@pytest.mark.parametrize(
    ("name", "build", "expected"),
    [
        ("photo.png", files.jpeg, ".jpg ou .jpeg"),
        ("scan.jpg", files.png, ".png"),
        ("document.png", files.pdf, ".pdf"),
        ("document", files.pdf, ".pdf"),
        ("document.pdf.exe", files.pdf, ".pdf"),
    ],
)
def test_d5_extension_must_agree_with_the_content(clamd_down, name, build, expected):
    error = refusal(files.upload(name, build()))
    assert error.code == "extension"
    assert f"« {name} »" in message(error)
    assert f"elle doit être {expected}" in message(error)


def test_d5_zero_byte_file_is_refused(clamd_down):
    error = refusal(files.upload("vide.pdf", b""))
    assert error.code == "empty"
    assert "« vide.pdf » est vide" in message(error)


def test_d5_file_over_the_limit_is_refused_before_any_scan(clamd_down, disk):
    error = refusal(files.upload("gros.pdf", files.oversized(), content_type="application/pdf"))
    assert error.code == "too_large"
    assert "« gros.pdf »" in message(error)
    assert "taille maximale de 10 Mo" in message(error)
    assert disk.written() == []


def test_d5_size_limit_does_not_trust_the_announced_size(clamd_down, settings):
    settings.ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024 // 2
    data = b"%PDF-1.4\n" + b" " * settings.ATTACHMENT_MAX_BYTES
    error = refusal(files.RawUpload("menteur.pdf", data, size=100))
    assert error.code == "too_large"
    assert "taille maximale de 2,5 Mo" in message(error)


# --- readability (after the scan: clamd answers) -------------------------------------------------------


@pytest.mark.clamd
@pytest.mark.parametrize(
    ("build", "code", "words"),
    [
        (files.encrypted_pdf, "pdf_encrypted", "protégé par un mot de passe"),
        (lambda: files.encrypted_pdf(opens_without_password=True), "pdf_encrypted", "protégé par un mot de passe"),
        (files.broken_pdf, "pdf_unreadable", "illisible ou endommagé"),
        (files.truncated_pdf, "pdf_unreadable", "illisible ou endommagé"),
        (files.zero_page_pdf, "pdf_no_page", "ne contient aucune page"),
    ],
)
def test_d5_unreadable_pdf_is_refused(clamd_address, disk, build, code, words):
    error = refusal(files.upload("dossier.pdf", build()))
    assert error.code == code
    assert "« dossier.pdf »" in message(error)
    assert words in message(error)
    assert disk.written() == []


@pytest.mark.clamd
@pytest.mark.parametrize(("size", "longer_side"), [((200, 200), 200), ((999, 999), 999), ((600, 999), 999)])
def test_d5_too_small_image_is_refused(clamd_address, size, longer_side):
    error = refusal(files.upload("photo.png", files.png(size)))
    assert error.code == "image_too_small"
    assert "image trop petite pour être lisible : au moins 1000 pixels sur son plus grand côté" in message(error)
    assert f"celle-ci en a {longer_side}" in message(error)


@pytest.mark.clamd
def test_d5_truncated_image_is_refused(clamd_address):
    data = files.jpeg()
    error = refusal(files.upload("photo.jpg", data[: len(data) // 2]))
    assert error.code == "image_unreadable"
    assert "« photo.jpg » est illisible" in message(error)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8_000, 8_000),  # 64 Mpx: over our 50 Mpx cap, under Pillow's own threshold
        (10_000, 10_000),  # 100 Mpx: Pillow only warns (a warning would fail this suite: warnings are errors)
        (20_000, 20_000),  # 400 Mpx: Pillow's DecompressionBombError
    ],
)
def test_d5_decompression_bomb_is_refused_before_any_scan_or_decoding(clamd_down, disk, width, height):
    data = files.png_bomb(width, height)
    assert len(data) < 100_000
    error = refusal(files.upload("bombe.png", data))
    assert error.code == "image_too_large"
    assert "« bombe.png » a des dimensions démesurées" in message(error)
    assert disk.written() == []


# --- names shown to the user ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\System32\\scan.pdf", "scan.pdf"),
        ("C:\\Users\\Dupont\\Documents\\attestation.pdf", "attestation.pdf"),
        ("rele\x00ve.pdf", "releve.pdf"),
        ("ligne\r\nsuivante.pdf", "lignesuivante.pdf"),
        ("photo\u202egpj.png", "photogpj.png"),  # a right-to-left override that disguised the extension
        ("  espaces   multiples .pdf ", "espaces multiples .pdf"),
        ("Relevé CAF.pdf", "Relevé CAF.pdf"),
        ("..", "fichier sans nom"),
        ("dossier/", "fichier sans nom"),
        ("", "fichier sans nom"),
        (None, "fichier sans nom"),
    ],
)
def test_d5_file_name_is_sanitised_for_display(raw, shown):
    assert display_name(raw) == shown


def test_d5_long_file_name_is_cut_to_120_characters_keeping_its_extension():
    shown = display_name("a" * 300 + ".pdf")
    assert len(shown) == 120
    assert shown.endswith("….pdf")


@pytest.mark.clamd
def test_d5_check_upload_shows_only_the_sanitised_name(clamd_address):
    checked = check_upload(files.RawUpload("../../../etc/cron.d/justificatif.pdf", files.pdf()))
    assert checked.original_name == "justificatif.pdf"
    checked = check_upload(files.upload("x" * 300 + ".pdf", files.pdf()))
    assert len(checked.original_name) == 120
    assert checked.original_name.endswith(".pdf")
    error = refusal(files.RawUpload("..\\..\\fac\x00ture.pdf", files.html()))
    assert "« facture.pdf »" in message(error)
    assert "\x00" not in message(error) and "\\" not in message(error)


# --- count ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("already", "adding"), [(0, 1), (0, 5), (3, 2), (4, 1)])
def test_d5_count_within_the_limit_passes(already, adding):
    check_count(already, adding)


@pytest.mark.parametrize(
    ("already", "adding", "words"),
    [
        (0, 6, "Retirez-en 1 (vous pouvez encore en joindre 5)"),
        (3, 3, "il y en a déjà 3 et vous en ajoutez 3. Retirez-en 1 (vous pouvez encore en joindre 2)"),
        (5, 1, "en a déjà 5 : retirez les fichiers que vous venez d'ajouter"),
    ],
)
def test_d5_count_over_the_limit_is_refused(already, adding, words):
    with pytest.raises(ValidationError) as caught:
        check_count(already, adding)
    assert caught.value.code == "too_many"
    assert "au plus 5 pièces jointes" in message(caught.value)
    assert words in message(caught.value)


def test_d5_count_limit_follows_the_setting(settings):
    settings.ATTACHMENT_MAX_COUNT = 2
    check_count(1, 1)
    with pytest.raises(ValidationError, match="au plus 2 pièces jointes"):
        check_count(1, 2)


# --- storage -------------------------------------------------------------------------------------------


@pytest.mark.clamd
def test_d5_store_saves_under_a_random_name_in_private_storage(clamd_address, disk):
    pdf = check_upload(files.upload("Dossier DUPONT Jean.pdf", files.pdf()))
    photo = check_upload(files.upload("Photo DUPONT.JPEG", files.jpeg()))
    assert disk.written() == []

    names = [store(pdf), store(pdf), store(photo, folder="messages")]
    assert re.fullmatch(r"pieces-jointes/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", names[0])
    assert re.fullmatch(r"messages/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", names[2])
    assert len(set(names)) == 3
    written = disk.written()
    assert written == sorted(f"private-media/{name}" for name in names)
    assert not any("DUPONT" in path or "Dossier" in path for path in written)
    assert (disk.media / names[0]).read_bytes() == pdf.content

    with open_stored(names[2]) as stored:
        assert stored.read() == photo.content
    assert content_type_for(names[0]) == "application/pdf"
    assert content_type_for(names[2]) == "image/jpeg"
    delete_stored(names[1])
    assert not (disk.media / names[1]).exists()


@pytest.mark.parametrize("folder", ["../media", "/etc", "Pieces Jointes", ""])
def test_d5_store_refuses_an_unexpected_folder(folder):
    checked = CheckedFile(content=b"x", kind="pdf", mime="application/pdf", size=1, original_name="x.pdf", sha256="0")
    with pytest.raises(ValueError, match="Dossier de stockage invalide"):
        store(checked, folder=folder)


@pytest.mark.parametrize("name", ["../../etc/passwd", "pieces-jointes/2026/11/justificatif.pdf", "/etc/passwd", ""])
def test_d5_open_stored_accepts_only_names_made_by_store(disk, name):
    with pytest.raises(SuspiciousFileOperation):
        open_stored(name)


@pytest.mark.clamd
def test_d5_nothing_is_written_to_disk_when_a_check_fails(clamd_address, disk):
    uploads = [
        files.upload("virus.pdf", files.pdf_with_eicar()),
        files.upload("virus.png", files.with_eicar(files.png())),
        files.upload("page.pdf", files.html()),
        files.upload("photo.png", files.jpeg()),
        files.upload("vide.pdf", b""),
        files.upload("gros.pdf", files.oversized()),
        files.upload("secret.pdf", files.encrypted_pdf()),
        files.upload("casse.pdf", files.broken_pdf()),
        files.upload("petite.png", files.png((200, 200))),
        files.upload("bombe.png", files.png_bomb()),
    ]
    for upload in uploads:
        refusal(upload)
    assert disk.written() == []
