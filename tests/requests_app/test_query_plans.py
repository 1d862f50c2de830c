"""D8 and the caisse's queue at national scale: every list query is served by an index that matches its filter
and order, so a page costs the page, not the table (`make bench` measures it at 1 M requests).

The pages are requested for real and the queries they send are captured, then explained by PostgreSQL on a few
thousand rows with fresh statistics. Sequential scans are priced out (`enable_seqscan = off`): a sequential
scan that still shows means no index can serve the query at all.
"""

import json
import random
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import sync_agent_group
from core.text import fold
from requests_app.models import Demande, DemandeKind, DemandeLecture, DemandeState
from requests_app.retention import erase_closed_requests
from requests_app.services import record_read
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import CaisseFactory, partner_with_access

pytestmark = pytest.mark.django_db

TABLE = "requests_app_demande"
# The unique constraint's index, or Django's pattern-ops twin of it: both find one reference by equality.
REFERENCE_INDEXES = {"requests_app_demande_reference_key", "requests_app_demande_reference_43f6d968_like"}
NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]


@pytest.fixture
def volume():
    """8,000 requests of the five kinds: one big structure with 10 % of them, 59 ordinary ones, 4 caisses."""
    rng = random.Random(8)
    caisses = [CaisseFactory() for _ in range(4)]
    conventions = [partner_with_access(caisse=caisses[i % 4]) for i in range(60)]
    filers = [UserFactory(partenaire=c.convention_metier.partenaire) for c in conventions]
    start = timezone.make_aware(datetime(2024, 1, 1))
    rows = []
    for n in range(8000):
        index = 0 if n % 10 == 0 else 1 + n % 59
        convention = conventions[index]
        created = start + timedelta(minutes=n * 120)
        last, first = rng.choice(NAMES), rng.choice(["Léa", "Jean", "Inès", "Paul"])
        demande = Demande(
            # Every kind's own fields are filled, so that any kind satisfies the table's constraints.
            kind=rng.choice(list(DemandeKind)),
            dossier_type="puma",
            nature="autre",
            urgency="normale",
            modality="visio",
            slot_1=created,
            document_type="autre",
            delivery="assure",
            partenaire=convention.convention_metier.partenaire,
            caisse=convention.convention_metier.caisse,
            filed_by=filers[index],
            created_at=created,
            state_changed_at=created,
            state=DemandeState.TRAITEE if n < 7000 else rng.choice(list(DemandeState)),
            assure_civilite="mme",
            assure_last_name=last,
            assure_first_name=first,
            assure_birth_date=date(1980, 1, 1),
            assure_departement="59",
        )
        demande.search_text = fold(f"{demande.reference} {last} {first}")
        rows.append(demande)
    rows[4320].assure_last_name = "Quillevère"
    rows[4320].search_text = fold(f"{rows[4320].reference} Quillevère Léa")
    Demande.objects.bulk_create(rows, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
    return {"big": conventions[0], "caisse": caisses[0], "rows": rows}


def plan_nodes(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes, todo = [], [plan[0]["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo.extend(node.get("Plans", []))
    return nodes


def demande_queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200, url
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    return [q["sql"] for q in queries.captured_queries if f'FROM "{TABLE}"' in q["sql"]]


def assert_served(client, url, indexes: set[str], *, ordered=True):
    """Every query on the requests table uses an index, one of `indexes` serves the list and, for a list
    (`ordered`), in its order: no sort of more than a page of rows. (A search sorts the few rows it found.)"""
    queries = demande_queries(client, url)
    assert queries, url
    used = set()
    for sql in queries:
        nodes = plan_nodes(sql)
        scans = [n for n in nodes if n.get("Relation Name") == TABLE]
        assert all(n["Node Type"] != "Seq Scan" for n in scans), (url, sql)
        sorts = [n for n in nodes if n["Node Type"] == "Sort" and n["Plan Rows"] > 50]
        assert not (ordered and sorts), ("a sort of the rows", url, sql)
        used |= {n.get("Index Name") for n in nodes}
    assert indexes & used, (url, used)


@pytest.fixture
def technicien(client, volume):
    return verified_login(client, UserFactory(partenaire=volume["big"].convention_metier.partenaire))


@pytest.fixture
def agent(client, volume):
    user = UserFactory(agent=True, caisse=volume["caisse"])
    user.groups.add(sync_agent_group())
    return verified_login(client, user)


def test_d8_history_page_reads_the_structures_newest_rows_by_index(technicien):
    # The big structure files 10 % of the requests, in date order like the table: reading the date index backwards
    # until a page of its rows (about ten pages of rows) may be priced as cheap as its own index. Both read a page.
    assert_served(technicien, reverse("demandes"), {"demande_partner_newest", "demande_queue"})


def test_d8_an_ordinary_structures_history_page_reads_its_own_index(client, volume):
    ordinary = volume["rows"][1].partenaire  # about 1.5 % of the requests
    verified_login(client, UserFactory(partenaire=ordinary))
    assert_served(client, reverse("demandes"), {"demande_partner_newest"})


def test_d8_history_filtered_by_state_kind_and_dates_uses_the_state_index(technicien):
    query = "?state=traitee&kind=contact&since=2024-03-01&until=2025-09-30"
    assert_served(technicien, reverse("demandes") + query, {"demande_partner_state", "demande_partner_kind"})


def test_d8_history_filtered_by_kind_uses_the_kind_index(technicien):
    assert_served(technicien, reverse("demandes") + "?kind=contact", {"demande_partner_kind"})


def test_d8_history_search_by_reference_uses_its_unique_index(technicien, volume):
    reference = volume["rows"][10].reference
    assert_served(technicien, reverse("demandes") + f"?q={reference.lower()}", REFERENCE_INDEXES, ordered=False)


def test_d8_history_search_by_name_uses_the_trigram_index(technicien):
    assert_served(technicien, reverse("demandes") + "?q=quillevere", {"demande_search_trgm"}, ordered=False)


def test_d8_history_export_streams_the_structures_rows_by_index(technicien):
    # Every row of the structure is read: found by its index, then sorted (cheaper than a walk of the whole
    # table's date index, which is what a cursor's fast start would choose).
    assert_served(technicien, reverse("demandes_export"), {"demande_partner_newest"}, ordered=False)


def test_d7_caisse_queue_oldest_first_by_index(agent):
    assert_served(agent, reverse("admin:requests_app_demande_changelist"), {"demande_caisse_queue"})


def test_d7_caisse_queue_by_state_by_index(agent):
    url = reverse("admin:requests_app_demande_changelist") + "?state__exact=traitee"
    # A state most rows have (traitée): the queue's own index, filtered, serves it as well as the state one.
    assert_served(agent, url, {"demande_caisse_state_age", "demande_caisse_queue"})


def test_d7_caisse_queue_search_by_reference_uses_its_unique_index(agent, volume):
    url = reverse("admin:requests_app_demande_changelist") + f"?q={volume['rows'][0].reference}"
    assert_served(agent, url, REFERENCE_INDEXES, ordered=False)


def test_d7_caisse_queue_search_by_name_uses_the_trigram_index(agent):
    url = reverse("admin:requests_app_demande_changelist") + "?q=Quillevère"
    assert_served(agent, url, {"demande_search_trgm"}, ordered=False)


def test_d7_dashboard_counts_only_open_requests_by_partial_index(agent):
    # Here, on a table just filled and never vacuumed, an index-only scan would still visit every row: the planner
    # may as well take the open states' range of the (caisse, state) index. Either reads no closed request.
    assert_served(agent, reverse("admin:index"), {"demande_caisse_open_counts", "demande_caisse_state_age"})
    # Every column its counts read is in the index: once vacuumed (autovacuum), no row of the table is visited.
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'demande_caisse_open_counts'")
        assert "INCLUDE (state, kind, assigned_to_id, id)" in cursor.fetchone()[0]


def test_d8_history_counts_at_most_a_capped_number_of_rows(technicien, monkeypatch):
    """Past the cap (here 500 for the big structure's 800 requests) the page says "plus de 500", offers the
    pages up to it, and its count reads at most cap + 1 rows."""
    monkeypatch.setattr("core.pagination.COUNT_CAP", 500)
    response = technicien.get(reverse("demandes") + "?page=999")
    page = response.context["page"]
    assert "Demandes (plus de 500)" in response.content.decode()
    assert (page.number, page.paginator.num_pages, len(page.object_list)) == (20, 20, 25)
    counts = [sql for sql in demande_queries(technicien, reverse("demandes")) if "COUNT(" in sql]
    assert counts and all("LIMIT 501" in sql for sql in counts)
    monkeypatch.setattr("core.pagination.COUNT_CAP", 1000)
    response = technicien.get(reverse("demandes"))
    assert "Demandes (800)" in response.content.decode()
    assert response.context["page"].paginator.num_pages == 32


def test_p6_retention_reads_the_closed_requests_not_yet_erased_by_their_partial_index(volume):
    """The nightly erasure of closed requests (P6) finds its rows by `demande_to_erase`, whatever the table's size."""
    with CaptureQueriesContext(connection) as queries:
        assert erase_closed_requests(now=timezone.make_aware(datetime(2026, 6, 1)), dry_run=True) > 0
    (sql,) = [q["sql"] for q in queries.captured_queries if f'FROM "{TABLE}"' in q["sql"]]
    nodes = plan_nodes(sql)
    assert "demande_to_erase" in {n.get("Index Name") for n in nodes}, sql


# --- The work queues (issue 13): each block of the partner's home and each history filter on its index -------


@pytest.fixture
def answered(volume):
    """Half the requests answered by the caisse within the last weeks; the big structure's technicien opened a
    few of them."""
    now = timezone.now()
    rows = volume["rows"]
    for n, demande in enumerate(rows[::2]):
        demande.caisse_changed_at = now - timedelta(minutes=7 * n)
    Demande.objects.bulk_update(rows[::2], ["caisse_changed_at"], batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
    return volume


def test_d8_home_blocks_each_on_their_index(client, answered):
    user = UserFactory(partenaire=answered["big"].convention_metier.partenaire)
    read = [d for d in answered["rows"][::20] if d.partenaire_id == user.partenaire_id][:50]
    for demande in read:
        record_read(demande, user)
    assert DemandeLecture.objects.filter(user=user).count() == len(read)
    verified_login(client, user)
    queries = demande_queries(client, reverse("home"))
    assert len(queries) == 3
    used = set()
    for sql in queries:
        nodes = plan_nodes(sql)
        assert all(n["Node Type"] != "Seq Scan" for n in nodes), sql
        assert not [n for n in nodes if n["Node Type"] == "Sort" and n["Plan Rows"] > 50], sql
        used |= {n.get("Index Name") for n in nodes}
    assert {"demande_partner_state", "demande_partner_answered", "demande_partner_open", "lecture_user_demande"} <= used


def test_d8_history_unread_and_late_filters_use_the_work_queue_indexes(technicien, answered):
    assert_served(technicien, reverse("demandes") + "?suivi=non_lues", {"demande_partner_answered"})
    assert_served(technicien, reverse("demandes") + "?suivi=en_retard", {"demande_partner_open"})


def test_d7_dashboard_unread_partner_messages_use_the_agents_recent_changes_index(agent, volume):
    """The agent's requests a partner changed lately, by their own partial index: not by intersecting his
    requests with his caisse's whole index (195,000 entries at 1 M requests)."""
    user = User.objects.get(pk=agent.session["_auth_user_id"])
    now = timezone.now()
    mine = [d for d in volume["rows"] if d.caisse_id == volume["caisse"].pk][::3]
    for n, demande in enumerate(mine):
        demande.assigned_to = user
        demande.partner_changed_at = now - timedelta(hours=5 * n)
    Demande.objects.bulk_update(mine, ["assigned_to", "partner_changed_at"], batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
    queries = demande_queries(agent, reverse("admin:index"))
    unread = [sql for sql in queries if "assigned_to_id" in sql and "requests_app_demandelecture" in sql]
    assert len(unread) == 1
    nodes = plan_nodes(unread[0])
    assert all(n["Node Type"] != "Seq Scan" for n in nodes)
    assert "demande_agent_answered" in {n.get("Index Name") for n in nodes}, nodes


def test_d7_caisse_queue_reads_its_page_once_and_counts_only_when_the_page_is_full(agent):
    """The queue reads its page first: a full page is followed by the capped count (no join, no order), a page
    that is not full tells the count itself, and a name search never runs its trigram scan a second time."""
    changelist = reverse("admin:requests_app_demande_changelist")
    queries = demande_queries(agent, changelist)
    counts = [sql for sql in queries if "COUNT(" in sql]
    assert len(queries) == 2 and len(counts) == 1, queries
    assert "LIMIT 1001" in counts[0] and "JOIN" not in counts[0] and "ORDER BY" not in counts[0]

    queries = demande_queries(agent, changelist + "?q=Quillevère")
    assert len(queries) == 1 and "COUNT(" not in queries[0], queries
    response = agent.get(changelist + "?q=Quillevère")
    assert response.context["cl"].result_count == 1 and "1 demande" in response.content.decode()

    queries = demande_queries(agent, changelist + "?q=martin")  # more than a page of matches
    assert len(queries) == 1 and "COUNT(" not in queries[0], queries
    response = agent.get(changelist + "?q=martin")
    cl = response.context["cl"]
    assert (len(cl.result_list), cl.paginator.num_pages, cl.paginator.shown_count) == (50, 2, "plus de 50")
    assert "plus de 50 demandes" in response.content.decode()
    assert "plus de 50 résultats" in response.content.decode() and "51 résultats" not in response.content.decode()
    response = agent.get(changelist + "?q=martin&p=2")
    assert response.context["cl"].paginator.num_pages in (2, 3)


def test_portal_queries_are_never_jit_compiled_and_priced_for_memory():
    """Compiling a query the planner prices high (a caisse's partners over quota, its open requests) took 0.5 to
    3 s at 1 M requests, for queries that run in milliseconds: the portal's connections turn JIT off. Random reads
    are priced as on SSD (1.1, not 4): at 4, a name search walked the whole table's date index rather than the
    partner's own rows (53,000 rows read for 26 at 1 M requests)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW random_page_cost")
        assert float(cursor.fetchone()[0]) == 1.1


def test_d8_name_search_is_priced_from_a_thousand_sampled_texts():
    """With 100 histogram entries a name in 1 % of the requests was priced at 0.01 %, and the search fetched every
    match of the table through the trigram index (cost following the table, make bench); 1,000 give the real share."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'search_text'", [TABLE]
        )
        assert cursor.fetchone()[0] == 1000


def test_d8_history_search_reads_its_matches_once(technicien):
    """A name search with more than a page of matches: no count (it would scan the matches again), "plus de 25"
    and the next page offered; one that fits in a page is counted by its page."""
    queries = demande_queries(technicien, reverse("demandes") + "?q=martin")
    assert len(queries) == 1 and "COUNT(" not in queries[0], queries
    response = technicien.get(reverse("demandes") + "?q=martin")
    assert "Demandes (plus de 25)" in response.content.decode()
    assert response.context["page"].paginator.num_pages == 2
    queries = demande_queries(technicien, reverse("demandes") + "?q=quillevere")
    assert len(queries) == 1 and "COUNT(" not in queries[0], queries
    assert "Demandes (1)" in technicien.get(reverse("demandes") + "?q=quillevere").content.decode()


def test_d8_history_pages_link_to_the_next_with_the_filters_kept(technicien):
    """The page links (templates/portal/_pagination.html, shared by the lists) keep the filters, drop the page."""
    content = technicien.get(reverse("demandes")).content.decode()
    assert 'href="?page=2">Page suivante' in content
    content = technicien.get(reverse("demandes"), {"kind": DemandeKind.CONTACT, "page": 2}).content.decode()
    assert 'href="?kind=contact&page=3">Page suivante' in content
    assert 'href="?kind=contact&page=1">Page précédente' in content
