"""`manage.py run_jobs`: the jobs named and only them, in the nightly order; an unknown name refused with exit
code 2 and the list of known names; --dry-run and --list with or without names."""

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.jobs import JOBS
from tests.conftest import subprocess_env

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> list[str]:
    out = StringIO()
    call_command("run_jobs", *args, stdout=out)
    return out.getvalue().splitlines()


def test_run_jobs_runs_only_the_named_jobs_in_the_nightly_order():
    lines = run("pieces_abandonnees", "liens_expires")
    assert [line.split("(")[1].split(")")[0] for line in lines] == ["liens_expires", "pieces_abandonnees"]
    assert all("ligne(s) modifiée(s)" in line for line in lines)


def test_run_jobs_without_a_name_runs_every_job():
    assert len(run("--dry-run")) == len(JOBS)


def test_run_jobs_dry_run_with_a_name_writes_nothing():
    assert run("--dry-run", "liens_expires") == ["Liens d'activation expirés (liens_expires) : 0 ligne(s) à modifier"]


def test_run_jobs_list_shows_names_and_schedules_and_runs_nothing():
    lines = run("--list")
    assert [line.split()[0] for line in lines] == [job.name for job in JOBS]
    assert any("chaque nuit à 02 h 00" in line for line in lines if line.startswith("suppression_comptes"))
    assert run("--list", "coherence") == [
        f"{'coherence':<26} Contrôles de cohérence entre les données — chaque nuit à 04 h 00 (heure de Paris)"
    ]


def test_run_jobs_refuses_an_unknown_name_and_runs_nothing():
    with pytest.raises(CommandError) as refused:
        run("liens_expires", "pas_une_tache")
    assert refused.value.returncode == 2
    assert "pas_une_tache" in str(refused.value) and "suppression_comptes" in str(refused.value)


def test_run_jobs_unknown_name_exits_with_code_2():
    result = subprocess.run(
        [sys.executable, "manage.py", "run_jobs", "pas_une_tache"],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Tâche inconnue : pas_une_tache. Tâches connues : emails_en_attente" in result.stderr
