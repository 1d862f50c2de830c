"""Issue 7 item 8: with the database down, the portal answers a French 503 page, never a traceback."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port, subprocess_env

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
answers = {}
for path in ("/connexion/", "/", "/demandes/", "/admin/"):
    response = client.get(path, HTTP_HOST="127.0.0.1")
    answers[path] = [response.status_code, response.content.decode()]
print(json.dumps(answers))
"""


def test_database_down_gives_a_french_503_page():
    env = subprocess_env(  # a PostgreSQL address where nothing answers
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/espace_partenaires", DATABASE_CONN_MAX_AGE="0"
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["/connexion/"][0] == 503
    for path, (status, content) in answers.items():
        # Pages that need no database for an anonymous visitor still redirect to the login page.
        assert status in (302, 503), (path, status, content[:300])
        if status == 503:
            assert "Service momentanément indisponible" in content and 'lang="fr"' in content
        assert "Traceback" not in content and "OperationalError" not in content
