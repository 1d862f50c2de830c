"""What the bench measures over HTTP: each page of the README's table beside its floor, in interleaved rounds;
the history's CSV export with the worker's memory."""

import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import psycopg

from .client import Client
from .server import rss_kib

# The runner's logins (bench.data creates them), by role.
PERSONAS = {
    "grand.technicien": "bench.grand.technicien.01",
    "grand.gestionnaire": "bench.grand.gestionnaire.01",
    "technicien": "bench.technicien.01",
    "gestionnaire": "bench.gestionnaire.01",
    "agent.grande": "bench.agent.grande.01",
    "agent": "bench.agent.01",
}
CHANGELIST = "/admin/requests_app/demande/"


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    persona: str
    path: str
    floor: str | None
    expect: str  # text every answer must contain


@dataclass
class Samples:
    seconds: list = field(default_factory=list)
    queries: list = field(default_factory=list)
    sql_ms: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def add(self, response, expect: str) -> None:
        if response.status != 200 or expect.encode() not in response.body:
            self.errors.append(f"HTTP {response.status}" + ("" if response.status != 200 else f", « {expect} » absent"))
            return
        self.seconds.append(response.seconds)
        if response.queries is not None:
            self.queries.append(response.queries)
            self.sql_ms.append(response.sql_ms)

    def summary(self) -> dict:
        return {
            "n": len(self.seconds),
            "median_ms": _ms(statistics.median(self.seconds)) if self.seconds else None,
            "p95_ms": _ms(percentile(self.seconds, 95)) if self.seconds else None,
            "queries": max(self.queries) if self.queries else None,
            "sql_ms": round(statistics.median(self.sql_ms), 1) if self.sql_ms else None,
            "errors": self.errors[:5],
            "error_count": len(self.errors),
        }


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def percentile(values, p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def targets(database_url: str) -> dict:
    """Rows the pages open or search for, read from the bench database."""
    with psycopg.connect(database_url) as conn:

        def one(sql, *params):
            row = conn.execute(sql, params).fetchone()
            if row is None:
                raise RuntimeError(f"données du banc introuvables ({sql[:60]}…) : lancez bench_data")
            return row

        big_partner, big_caisse = one(
            "SELECT t.partenaire_id, a.caisse_id FROM accounts_user t, accounts_user a "
            "WHERE t.username = %s AND a.username = %s",
            PERSONAS["grand.technicien"],
            PERSONAS["agent.grande"],
        )
        (count,) = one("SELECT count(*) FROM requests_app_demande WHERE partenaire_id = %s", big_partner)
        (reference,) = one(
            "SELECT reference FROM requests_app_demande WHERE partenaire_id = %s ORDER BY created_at DESC, id DESC "
            "OFFSET %s LIMIT 1",
            big_partner,
            count // 2,
        )
        admin_id, admin_reference = one(
            "SELECT id, reference FROM requests_app_demande WHERE caisse_id = %s AND state = 'en_cours' "
            "ORDER BY created_at DESC LIMIT 1",
            big_caisse,
        )
    today = date.today()
    return {
        "big_partner_requests": count,
        "reference": reference,
        "admin_id": admin_id,
        "admin_reference": admin_reference,
        "since": (today - timedelta(days=450)).isoformat(),
        "until": (today - timedelta(days=360)).isoformat(),
    }


def pages(t: dict) -> list[Page]:
    floor = "/_banc/plancher/"
    window = f"state=traitee&kind=contact&since={t['since']}&until={t['until']}"
    ref, admin_ref = t["reference"], t["admin_reference"]
    return [
        Page("home_tech", "accueil technicien (grand partenaire)", "grand.technicien", "/", f"{floor}accueil/",
             "Bonjour"),
        Page("history", "historique, page 1", "grand.technicien", "/demandes/", f"{floor}historique/",
             "Historique des demandes"),
        Page("history_filter", "historique, filtre état + type + dates", "grand.technicien", f"/demandes/?{window}",
             f"{floor}historique/?{window}", "Historique des demandes"),
        Page("history_ref", "historique, recherche par référence", "grand.technicien", f"/demandes/?q={ref}",
             f"{floor}historique/?q={ref}", ref),
        Page("history_name", "historique, recherche par nom", "grand.technicien", "/demandes/?q=lefevre",
             f"{floor}historique/?q=lefevre", "Lefèvre"),
        Page("detail", "fiche d'une demande (partenaire)", "grand.technicien", f"/demandes/{ref}/",
             f"{floor}demande/?reference={ref}", ref),
        Page("home_gest", "accueil gestionnaire (grand partenaire)", "grand.gestionnaire", "/", f"{floor}accueil/",
             "Bonjour"),
        Page("accounts", "comptes de la structure (gestionnaire)", "grand.gestionnaire", "/structure/comptes/",
             f"{floor}comptes/", "Comptes de la structure"),
        Page("accounts_csv", "export des habilitations (CSV)", "grand.gestionnaire", "/structure/comptes/export.csv",
             f"{floor}comptes/", "Identifiant"),
        Page("home_tech_small", "accueil technicien (partenaire ordinaire)", "technicien", "/", f"{floor}accueil/",
             "Bonjour"),
        Page("history_small", "historique, page 1 (partenaire ordinaire)", "technicien", "/demandes/",
             f"{floor}historique/", "Historique des demandes"),
        Page("dashboard", "admin, tableau de bord (grande caisse)", "agent.grande", "/admin/",
             f"{floor}tableau-de-bord/", "Tableau de bord"),
        Page("changelist", "admin, liste des demandes", "agent.grande", CHANGELIST, f"{floor}demandes-admin/",
             "demande"),
        Page("changelist_state", "admin, liste filtrée par état", "agent.grande", f"{CHANGELIST}?state__exact=envoyee",
             f"{floor}demandes-admin/?state=envoyee", "demande"),
        Page("admin_ref", "admin, recherche par référence", "agent.grande", f"{CHANGELIST}?q={admin_ref}",
             f"{floor}demandes-admin/?q={admin_ref}", admin_ref),
        Page("admin_name", "admin, recherche par nom", "agent.grande", f"{CHANGELIST}?q=dupont",
             f"{floor}demandes-admin/?q=dupont", "demande"),
        Page("admin_detail", "admin, fiche d'une demande", "agent.grande", f"{CHANGELIST}{t['admin_id']}/change/",
             f"{floor}demande-admin/?id={t['admin_id']}", admin_ref),
        Page("dashboard_small", "admin, tableau de bord (caisse ordinaire)", "agent", "/admin/",
             f"{floor}tableau-de-bord/", "Tableau de bord"),
    ]  # fmt: skip


def measure_pages(clients: dict[str, Client], page_list: list[Page], rounds: int, *, warmup: int = 1, log=print):
    """Round-robin: every round visits every page and its floor once, in a shuffled order (page and floor side by
    side, their order alternating), so that a page's samples are spread over the whole run."""
    results = {p.key: {"page": Samples(), "floor": Samples()} for p in page_list}
    rng = random.Random(10)
    for round_number in range(warmup + rounds):
        order = list(page_list)
        rng.shuffle(order)
        for index, page in enumerate(order):
            client = clients[page.persona]
            pair = [("page", page.path, page.expect), ("floor", page.floor, "")]
            if (index + round_number) % 2:
                pair.reverse()
            for side, path, expect in pair:
                if path is None:
                    continue
                response = client.get(path)
                if round_number >= warmup:
                    results[page.key][side].add(response, expect)
                elif response.status != 200:
                    results[page.key][side].errors.append(f"HTTP {response.status} (échauffement)")
        if round_number >= warmup and (round_number - warmup + 1) % 10 == 0:
            log(f"    tour {round_number - warmup + 1}/{rounds}")
    return {
        page.key: {
            "label": page.label,
            "path": page.path,
            **{side: s.summary() for side, s in results[page.key].items()},
        }
        for page in page_list
    }


class MemorySampler(threading.Thread):
    """Peak resident memory of the gunicorn workers while something runs (VmRSS every 20 ms)."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids = pids
        self.baseline = {pid: rss_kib(pid) for pid in pids}
        self.peak = dict(self.baseline)
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_kib(pid))
            time.sleep(0.02)

    def stop(self) -> dict:
        self.done.set()
        self.join()
        grown = max(self.pids, key=lambda pid: self.peak[pid] - self.baseline[pid])
        return {
            "rss_before_mib": round(self.baseline[grown] / 1024, 1),
            "rss_peak_mib": round(self.peak[grown] / 1024, 1),
            "rss_growth_mib": round((self.peak[grown] - self.baseline[grown]) / 1024, 1),
            "vmhwm_mib": round(rss_kib(grown, "VmHWM") / 1024, 1),
        }


def measure_export(client: Client, worker_pids: list[int], rounds: int, *, floor: bool = False) -> dict:
    """The big partner's history as CSV: time, rows per second, the serving worker's memory."""
    path = "/_banc/plancher/export/" if floor else "/demandes/export.csv"
    client.get(path)  # warm-up
    timings, rows, memory = [], 0, []
    for _ in range(rounds):
        sampler = MemorySampler(worker_pids)
        sampler.start()
        response = client.get(path, on_chunk=lambda size: None)
        memory.append(sampler.stop())
        if response.status != 200:
            return {"error": f"HTTP {response.status}"}
        timings.append(response.seconds)
        rows = response.body.count(b"\n") - 1
    median = statistics.median(timings)
    return {
        "rows": rows,
        "median_ms": _ms(median),
        "p95_ms": _ms(percentile(timings, 95)),
        "rows_per_s": round(rows / median) if median else None,
        "bytes": len(response.body),
        **max(memory, key=lambda m: m["rss_growth_mib"]),
    }
