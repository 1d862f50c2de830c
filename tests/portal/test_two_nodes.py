"""Two web nodes, one state (README, « Plusieurs nœuds »): two real gunicorn processes, each in its own working
directory with its own (unused) media directory — no shared disk — on the same PostgreSQL (through PgBouncer in
transaction mode), Redis and S3 object store. A technicien signs in on node A and files with an attachment a form
loaded from A but posted to B (session and CSRF shared); a lexicon term added afterwards is refused by B; the
agent of the caisse signs in on B and downloads the file; the purge job, run by a real Celery worker, removes an
abandoned file for both; the lockout counters add up across the nodes."""

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import CGU
from core.models import HealthTerm, HealthTermCategory
from requests_app.models import Demande, PieceJointe
from tests.accounts.factories import UserFactory
from tests.conftest import ROOT, celery_worker, free_port, subprocess_env
from tests.conventions.factories import partner_with_access
from tests.requests_app.files import pdf

pytestmark = [pytest.mark.s3, pytest.mark.pgbouncer, pytest.mark.redis, pytest.mark.clamd]

PASSWORD = "Deux-noeuds-un-etat-2026"
INSURED = {
    "assure_civilite": "mme",
    "assure_last_name": "Dupré",
    "assure_first_name": "Éloïse",
    "assure_birth_date": "1984-03-12",
    "assure_departement": "59",
    "message": "Merci de nous rappeler.",
}


class Browser:
    """Cookies kept across requests (both nodes are 127.0.0.1: one cookie jar, as in a browser behind a balancer)."""

    def __init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, url, data=None, headers=None):
        request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 (the nodes: http)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.geturl(), response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.geturl(), error.read()

    def get(self, url):
        return self.open(url)

    def post(self, url, fields, files=()):
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, filename, content in files:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/pdf\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.open(url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def hidden(body: bytes, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', body.decode()).group(1)


def totp_code(user) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    device.refresh_from_db()
    if device.last_t is not None and totp.t() <= device.last_t:
        totp.time += device.step
    return f"{totp.token():0{device.digits}d}"


def sign_in(browser, node, user):
    """Password, second factor, then the CGU if asked: through the real forms of `node`."""
    _, _, page = browser.get(f"{node}/connexion/")
    fields = {"csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"), "username": user.username}
    status, url, page = browser.post(f"{node}/connexion/", {**fields, "password": PASSWORD})
    assert "/2fa/verification/" in url, (status, url)
    token = hidden(page, "csrfmiddlewaretoken")
    status, url, page = browser.post(url, {"csrfmiddlewaretoken": token, "code": totp_code(user)})
    if "/cgu/" in url:
        status, url, page = browser.post(
            url, {"csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"), "accept": "on"}
        )
    assert status == 200 and "/connexion/" not in url and "/2fa/" not in url, (status, url)


def with_password(user):
    """The production hasher (the nodes run portal.settings, not the tests' fast one) and a confirmed device."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    TOTPDevice.objects.create(user=user, name="Téléphone", confirmed=True)
    return user


def answers(url) -> bool:
    try:
        return Browser().get(url)[0] == 200
    except urllib.error.URLError:
        return False


@contextmanager
def gunicorn_node(env, directory):
    """A web node: gunicorn with the project's gunicorn.conf.py, run from its own directory."""
    directory.mkdir()
    port = free_port()
    with open(directory / "gunicorn.log", "w") as log:
        node = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--pythonpath", str(ROOT)]
            + ["portal.wsgi:application"],
            cwd=directory,
            env={
                **env,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": "1",
                "PRIVATE_MEDIA_ROOT": str(directory / "private-media"),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not answers(f"{url}/connexion/"):
            assert node.poll() is None and time.monotonic() < deadline, (directory / "gunicorn.log").read_text()
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(node.pid, signal.SIGTERM)
        node.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_two_nodes_share_sessions_csrf_files_jobs_and_lockouts(
    object_storage, pgbouncer_port, redis_url, clamd_address, tmp_path
):
    convention = partner_with_access()
    caisse = convention.convention_metier.caisse
    technicien = with_password(UserFactory(partenaire=convention.convention_metier.partenaire))
    agent = with_password(UserFactory(agent=True, caisse=caisse))
    CGU.objects.all().delete()  # no CGU to accept: the gate is tested elsewhere

    direct = subprocess_env()["DATABASE_URL"]
    env = subprocess_env(
        DATABASE_URL=direct.replace(":5432/", f":{pgbouncer_port}/"),
        DATABASE_TRANSACTION_POOLING="true",
        REDIS_URL=redis_url.rsplit("/", 1)[0] + "/13",
        DJANGO_DEBUG="true",
        AXES_FAILURE_LIMIT="3",
        OBJECT_STORAGE_BUCKET=object_storage.name,
        OBJECT_STORAGE_ENDPOINT_URL=object_storage.endpoint_url,
        OBJECT_STORAGE_ACCESS_KEY_ID=object_storage.access_key,
        OBJECT_STORAGE_SECRET_ACCESS_KEY=object_storage.secret_key,
    )
    document = pdf()
    with gunicorn_node(env, tmp_path / "node-a") as a, gunicorn_node(env, tmp_path / "node-b") as b:
        partner = Browser()
        sign_in(partner, a, technicien)
        assert partner.get(f"{b}/demandes/")[0] == 200  # the session opened on A is valid on B

        form = f"/demandes/nouvelle/{caisse.pk}/contact/"
        _, _, page = partner.get(f"{a}{form}")
        fields = {name: hidden(page, name) for name in ("csrfmiddlewaretoken", "form_token")}
        status, url, _ = partner.post(f"{b}{form}", {**fields, **INSURED}, [("files", "justificatif.pdf", document)])
        demande = Demande.objects.get()
        assert (status, url) == (200, f"{b}/demandes/{demande.reference}/")
        piece = demande.pieces.get()
        assert object_storage.read(piece.file.name) == document

        # The lexicon: B compiled it for the request above; a term added since (by the back-office, on any node)
        # is refused by B at once.
        HealthTerm.objects.create(term="zorglubite", category=HealthTermCategory.MALADIE)
        _, _, page = partner.get(f"{a}{form}")
        fields = {name: hidden(page, name) for name in ("csrfmiddlewaretoken", "form_token")}
        status, url, page = partner.post(f"{b}{form}", {**fields, **INSURED, "message": "Suivi de sa zorglubite."})
        assert (status, url) == (200, f"{b}{form}") and "zorglubite" in page.decode()
        assert Demande.objects.count() == 1

        staff = Browser()
        sign_in(staff, b, agent)
        status, _, body = staff.get(f"{b}/demandes/{demande.reference}/pieces/{piece.pk}/")
        assert (status, body) == (200, document)

        # An abandoned file (a form refused, never sent), staged through A, purged by a worker for both nodes.
        _, _, page = partner.get(f"{a}{form}")
        fields = {name: hidden(page, name) for name in ("csrfmiddlewaretoken", "form_token")}
        partner.post(f"{a}{form}", fields, [("files", "abandonne.pdf", pdf(2))])
        abandoned = PieceJointe.objects.get(demande__isnull=True)
        assert object_storage.read(abandoned.file.name) == pdf(2)
        PieceJointe.objects.filter(pk=abandoned.pk).update(uploaded_at=timezone.now() - timedelta(days=2))
        queue = f"test-two-nodes-{uuid.uuid4().hex}"
        with celery_worker(env, tmp_path / "worker.log", "-Q", queue, "-l", "WARNING"):
            subprocess.run(
                [sys.executable, "-c", "import django; django.setup(); from portal.tasks import run_job; "
                 f"run_job.apply_async(('pieces_abandonnees',), queue='{queue}')"],
                cwd=ROOT, env=env, check=True, timeout=60,
            )  # fmt: skip
            deadline = time.monotonic() + 60
            while PieceJointe.objects.filter(pk=abandoned.pk).exists() and time.monotonic() < deadline:
                time.sleep(0.2)
        assert object_storage.keys() == [piece.file.name], (tmp_path / "worker.log").read_text()[-2000:]

        # Lockout (axes, in the database): three failures spread over A and B lock the account on both.
        intruder = Browser()
        for node in (a, b, a):
            _, _, page = intruder.get(f"{node}/connexion/")
            token = hidden(page, "csrfmiddlewaretoken")
            status, _, _ = intruder.post(
                f"{node}/connexion/", {"csrfmiddlewaretoken": token, "username": "x-inconnu", "password": "faux"}
            )
        _, _, page = intruder.get(f"{b}/connexion/")
        token = hidden(page, "csrfmiddlewaretoken")
        status, _, _ = intruder.post(
            f"{b}/connexion/", {"csrfmiddlewaretoken": token, "username": "x-inconnu", "password": "faux"}
        )
        assert status == 429

    for node in ("node-a", "node-b"):  # nothing written to either node's disk
        assert not (tmp_path / node / "private-media").exists() or not any(
            (tmp_path / node / "private-media").iterdir()
        )
