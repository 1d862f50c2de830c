"""P7 at national scale: the structure's list, the caisse's queue, the national queue and the dashboard's counts
of reported problems are each served by an index matching their filter and order; P8's maintenance check, on
every partner page, by the partial index of the interrupting windows (same method as test_query_plans)."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import sync_agent_group
from portal.continuity import current_interruption
from portal.models import MaintenanceNotice
from requests_app.models import Ticket, TicketCategory, TicketState
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import CaisseFactory, partner_with_access
from tests.requests_app.test_query_plans import plan_nodes

pytestmark = pytest.mark.django_db

TABLE = "requests_app_ticket"


@pytest.fixture
def volume():
    """6,000 tickets of 40 structures and 4 caisses, most of them resolved long ago."""
    caisses = [CaisseFactory() for _ in range(4)]
    conventions = [partner_with_access(caisse=caisses[i % 4]) for i in range(40)]
    reporters = [UserFactory(partenaire=c.convention_metier.partenaire) for c in conventions]
    start = timezone.make_aware(datetime(2024, 1, 1))
    states = [TicketState.NOUVEAU, TicketState.PRIS_EN_CHARGE, TicketState.TRANSMIS]
    rows = []
    for n in range(6000):
        convention = conventions[n % 40]
        created = start + timedelta(hours=n * 3)
        rows.append(
            Ticket(
                partenaire=convention.convention_metier.partenaire,
                caisse=convention.convention_metier.caisse,
                reported_by=reporters[n % 40],
                category=TicketCategory.USAGE,
                description="Question d'utilisation.",
                created_at=created,
                state_changed_at=created,
                state=TicketState.RESOLU if n < 5700 else states[n % 3],
            )
        )
    Ticket.objects.bulk_create(rows, batch_size=1000)
    start_window = timezone.now() - timedelta(days=400)
    MaintenanceNotice.objects.bulk_create(
        MaintenanceNotice(
            title=f"Maintenance {n}",
            message="Fermé.",
            starts_at=start_window + timedelta(days=n),
            ends_at=start_window + timedelta(days=n, hours=2),
            announce_from=start_window + timedelta(days=n - 7),
            interrupting=n % 2 == 0,
        )
        for n in range(400)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
        cursor.execute("ANALYZE portal_maintenancenotice")
    return {"convention": conventions[0], "caisse": caisses[0], "reporter": reporters[0]}


def indexes_used(sqls: list[str], table: str) -> set[str]:
    """The indexes of `table` the plans read (a bitmap scan names its index on its child node); no sequential
    scan of it."""
    used = set()
    for sql in sqls:
        for node in plan_nodes(sql):
            if node.get("Relation Name") == table:
                assert node["Node Type"] != "Seq Scan", sql
            if node.get("Relation Name") in (table, None) and "Index Name" in node:
                used.add(node["Index Name"])
    return used


def queries_on(client, url, table=TABLE) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200, url
    return [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]


def test_p7_the_structures_list_reads_its_newest_rows_by_index(client, volume):
    verified_login(client, volume["reporter"])
    sqls = queries_on(client, reverse("tickets"))
    assert indexes_used(sqls, TABLE) == {"ticket_partner_newest"}


def test_p7_the_caisse_queue_and_dashboard_use_the_open_index(client, volume):
    agent = UserFactory(agent=True, caisse=volume["caisse"])
    agent.groups.add(sync_agent_group())
    verified_login(client, agent)
    queue = queries_on(client, reverse("admin:requests_app_ticket_changelist") + "?file=ouverts")
    assert indexes_used(queue, TABLE) and indexes_used(queue, TABLE) <= {"ticket_caisse_open", "ticket_caisse_queue"}
    dashboard = queries_on(client, reverse("admin:index"))
    assert indexes_used(dashboard, TABLE) == {"ticket_caisse_open"}


def test_p7_the_national_queue_uses_its_partial_index(client, volume):
    verified_login(client, UserFactory(administrateur=True))
    sqls = queries_on(client, reverse("admin:requests_app_ticket_changelist") + "?file=nationale")
    assert indexes_used(sqls, TABLE) == {"ticket_national_queue"}


def test_p8_the_maintenance_check_uses_the_interrupting_windows_index(volume):
    with CaptureQueriesContext(connection) as queries:
        assert current_interruption() is None
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert indexes_used([sql], "portal_maintenancenotice") == {"maintenance_interrupting"}
