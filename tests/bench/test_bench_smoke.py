"""`make bench` at 1 % — a tiny bench data set that holds every rule, its logins work, and the runner's
own measuring code run against a real gunicorn on it (pages beside their floors, export, load, jobs, upload)."""

import argparse
import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client as DjangoClient

from bench import invariants, report, run
from bench.client import totp
from bench.credentials import BENCH_PASSWORD, BENCH_TOTP_KEY
from bench.server import portal_env
from tests.conftest import subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)  # a gunicorn process reads the data: it must be committed

DEFAULT_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]


def _sign_in_with_django_client(username: str) -> int:
    """The login pages through Django's test client: password, then the TOTP code; the status of the home page."""
    client = DjangoClient()
    answer = client.post("/connexion/", {"username": username, "password": BENCH_PASSWORD})
    assert answer.status_code == 302, f"{username} : mot de passe refusé"
    answer = client.get("/", follow=True)
    assert answer.request["PATH_INFO"] == "/2fa/verification/", f"{username} : pas de double authentification"
    answer = client.post("/2fa/verification/?next=/", {"code": totp(BENCH_TOTP_KEY)}, follow=True)
    return answer.status_code if answer.request["PATH_INFO"] == "/" else 0


def test_bench_data_refuses_a_database_that_is_not_a_bench_one(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "NAME", "espace_partenaires")
    with pytest.raises(CommandError, match="n'est pas une base de banc"):
        call_command("bench_data", size="smoke", stdout=io.StringIO())


def test_bench_smoke(tmp_path, settings_override_hashers, clamd_address):
    # 1. A tiny data set (10,000 requests, 50 partners, 1,000 accounts), every rule held.
    call_command("bench_data", size="smoke", stdout=io.StringIO())
    failures = invariants.report(log=lambda line: None, sample=30)
    assert failures == [], failures
    with pytest.raises(CommandError, match="contient déjà"):  # never on top of existing data
        call_command("bench_data", size="smoke", stdout=io.StringIO())

    # 2. Logins the runner does not use (a TOTP code serves once per account and 30 s) through Django's client.
    for username in ("bench.admin", "bench.grand.technicien.02", "bench.gestionnaire.02", "bench.agent.grande.02"):
        assert _sign_in_with_django_client(username) == 200, username

    # 3. The runner's measurements against a real gunicorn (DJANGO_DEBUG=false) on the test database.
    database_url = subprocess_env()["DATABASE_URL"]
    env = portal_env(database_url, BENCH_STATIC_FROM_APPS="1")  # static files from the apps: no collectstatic here
    args = argparse.Namespace(
        rounds=2,
        export_rounds=1,
        users=6,
        seconds=3,
        think=0.0,
        configs=["gthread:2x2"],
        job_repeats=1,
        upload_rounds=3,
        skip=set(),
        generation="smoke",
    )
    result = run.measure_size("smoke", database_url, args, env, tmp_path)

    for key, page in result["pages"].items():
        for side in ("page", "floor"):
            assert page[side]["error_count"] == 0, (key, side, page[side]["errors"])
            assert page[side]["n"] == 2, (key, side)
        assert page["page"]["queries"] > 0, key  # the bench middleware's header
    export = result["export"]["page"]
    assert export["rows"] == 500 and result["export"]["floor"]["rows"] == 500  # the big partner's 5 %
    assert export["rows_per_s"] > 0 and export["rss_peak_mib"] > 0
    load = result["load"]["gthread 2×2"]
    assert load["errors"] == 0 and load["requests"] > 0, load
    for name, job in result["jobs"].items():  # the set-based SQL makes the same change as the job
        assert job["rows"] > 0 and job["sql_rows"] == job["rows"], (name, job)
    assert result["upload"]["check_ms"] > 0 and result["upload"]["instream_ms"] > 0

    # 4. The report and its chart, written where they were asked (never into the repository during tests).
    path = run.write_report(result, tmp_path)
    text = path.read_text()
    assert path.parent == tmp_path and re.fullmatch(r"\d{4}-\d{2}-\d{2}-smoke\.md", path.name)
    for page in result["pages"].values():
        assert page["label"] in text
    assert "## Tâches de nuit" in text and "## Charge" in text and "## Pièce jointe" in text
    bigger = json.loads(json.dumps(result)) | {"size": "smoke×10", "requests": result["requests"] * 10}
    # Flatness measured in the same rounds (bench.run.measure_flatness; two sizes, so not at 1 %): the verdict
    # comes from it, a page 1.5× slower at the bigger size is marked.
    key = "history"
    slower = {**result["pages"][key]["page"], "p95_ms": result["pages"][key]["page"]["p95_ms"] * 1.5}
    bigger["flat"] = {
        "sizes": ["smoke", "smoke×10"],
        "rounds": 2,
        "pages": {key: {"label": "historique, page 1", "smoke": result["pages"][key]["page"], "smoke×10": slower}},
    }
    text = report.markdown(bigger, result)
    assert "## Plat de smoke à smoke×10" in text and "| historique, page 1 |" in text
    assert "(1.50× à smoke, mêmes tours ✗)" in text
    assert report.chart([result, bigger], tmp_path / "pages.png").stat().st_size > 10_000


@pytest.fixture
def settings_override_hashers(settings):
    """The bench's logins carry a real PBKDF2 hash (the gunicorn process uses the default hashers)."""
    settings.PASSWORD_HASHERS = DEFAULT_HASHERS
    return settings
