"""docker-compose.yml keeps the shape of several nodes (README, « Plusieurs nœuds ») and stays a valid Compose file
in what can be checked without a Docker engine: every reference resolves, no node shares a disk."""

import yaml

from tests.conftest import ROOT


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_volume_and_config_referenced_is_defined():
    spec = compose()
    services = spec["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
        for config in service.get("configs", []):
            assert config["source"] in spec["configs"], (name, config)
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith(("/", ".")) or source in spec["volumes"], (name, volume)


def test_two_web_replicas_and_two_workers_without_a_shared_disk_one_beat():
    services = compose()["services"]
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "ports" not in services["web"]  # reached through the load balancer only
    assert services["lb"]["ports"]
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["OBJECT_STORAGE_BUCKET"] and environment["OBJECT_STORAGE_ENDPOINT_URL"]
        assert "PRIVATE_MEDIA_ROOT" not in environment
        assert "@pgbouncer:6432/" in environment["DATABASE_URL"], name
        assert environment["DATABASE_TRANSACTION_POOLING"] == "true"
        assert not any("media" in volume for volume in services[name].get("volumes", []))
    assert "@db:5432/" in services["migrate"]["environment"]["DATABASE_URL"]  # migrations: a session of their own


def test_pgbouncer_pools_in_transaction_mode_and_the_web_pool_carries_the_statement_timeout():
    ini = compose()["configs"]["pgbouncer-ini"]["content"]
    assert "pool_mode = transaction" in ini
    assert "espace_web = " in ini and "connect_query='SET statement_timeout" in ini
