"""Moving an installation to the object store: `manage.py copy_media_to_storage` on the real SeaweedFS."""

import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.s3

FILES = {
    "pieces-jointes/2025/01/" + "a" * 32 + ".pdf": b"%PDF-1.4 premier",
    "pieces-jointes/2025/02/" + "b" * 32 + ".png": b"\x89PNG second" * 1000,
    "conventions/signees/convention-12.pdf": b"%PDF-1.4 convention",
}


@pytest.fixture
def old_media(tmp_path):
    root = tmp_path / "private-media"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def run(root, *options):
    out = io.StringIO()
    call_command("copy_media_to_storage", "--source", str(root), "--no-progress", *options, stdout=out)
    return out.getvalue()


def test_dry_run_counts_and_writes_nothing(old_media, object_storage):
    assert "3 à copier" in run(old_media, "--dry-run")
    assert object_storage.keys() == []


def test_copy_is_verified_idempotent_and_resumes_after_a_broken_copy(old_media, object_storage):
    assert "3 copié" in run(old_media)
    assert object_storage.keys() == sorted(FILES)
    assert all(object_storage.read(name) == data for name, data in FILES.items())

    assert "3 déjà présent" in run(old_media)  # a second run copies nothing

    # An interrupted earlier run left a truncated object: it is replaced, the others are left alone.
    broken = "pieces-jointes/2025/02/" + "b" * 32 + ".png"
    object_storage.client.put_object(Bucket=object_storage.name, Key=broken, Body=b"\x89PNG sec")
    output = run(old_media)
    assert "1 copié" in output and "2 déjà présent" in output
    assert object_storage.read(broken) == FILES[broken]


def test_the_store_down_fails_clearly_and_a_rerun_finishes(old_media, object_storage, settings):
    from tests.conftest import free_port

    good = settings.STORAGES["default"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": object_storage.storage(endpoint_url=f"http://127.0.0.1:{free_port()}"),
    }
    with pytest.raises(CommandError, match="3 fichier"):
        run(old_media)
    settings.STORAGES = {**settings.STORAGES, "default": good}
    assert "3 copié" in run(old_media)


def test_refuses_to_copy_a_directory_onto_itself(old_media, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(old_media)}},
    }
    with pytest.raises(CommandError, match="OBJECT_STORAGE_BUCKET"):
        run(old_media)
