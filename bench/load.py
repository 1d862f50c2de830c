"""Closed-loop load test: N signed-in users (techniciens, gestionnaires, agents; the big partner's among them),
each looping over realistic pages with no think time, for a fixed duration. Standard library threads: each
virtual user has its own login, session and keep-alive connection."""

import itertools
import resource
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg

from .client import Client
from .pages import CHANGELIST, percentile

GROUPS = {
    "grand": "grand partenaire",
    "ordinaire": "partenaires ordinaires",
    "agent.grande": "agents de la grande caisse",
    "agent": "agents des autres caisses",
}


@dataclass
class VirtualUser:
    username: str
    group: str
    paths: list[str]


def virtual_users(database_url: str, count: int) -> list[VirtualUser]:
    """A mix close to a working day: techniciens most, then agents, a few gestionnaires; the big partner's users
    and the big caisse's agents about a third. Fewer logins than users: the logins are reused (their sessions
    then serve two users)."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT u.username, u.profile, u.partenaire_id, u.caisse_id FROM accounts_user u "
            "WHERE u.username LIKE 'bench.%%' AND u.username <> 'bench.admin' ORDER BY u.username"
        ).fetchall()
        refs, ids = {}, {}
        for username, _, partner, caisse in rows:
            if partner:
                refs[username] = [r for (r,) in conn.execute(
                    "SELECT reference FROM requests_app_demande WHERE partenaire_id = %s "
                    "ORDER BY created_at DESC LIMIT 3", (partner,))]  # fmt: skip
            else:
                ids[username] = conn.execute(
                    "SELECT id, reference FROM requests_app_demande WHERE caisse_id = %s AND state <> 'traitee' "
                    "ORDER BY created_at DESC LIMIT 3",
                    (caisse,),
                ).fetchall()
    pools = {
        "grand.technicien": [r for r in rows if r[0].startswith("bench.grand.technicien.")],
        "grand.gestionnaire": [r for r in rows if r[0].startswith("bench.grand.gestionnaire.")],
        "technicien": [r for r in rows if r[0].startswith("bench.technicien.")],
        "gestionnaire": [r for r in rows if r[0].startswith("bench.gestionnaire.")],
        "agent.grande": [r for r in rows if r[0].startswith("bench.agent.grande.")],
        "agent": [r for r in rows if r[0].startswith("bench.agent.") and ".grande." not in r[0]],
    }
    # Out of 50: 12 + 3 of the big partner, 20 + 5 of ordinary partners, 8 + 2 agents.
    shares = {"grand.technicien": 12, "grand.gestionnaire": 3, "technicien": 20, "gestionnaire": 5,
              "agent.grande": 8, "agent": 2}  # fmt: skip
    wanted = {role: max(1, round(count * share / 50)) for role, share in shares.items()}
    users = []
    for role, n in wanted.items():
        for (username, profile, *_), _ in zip(itertools.cycle(pools[role]), range(n), strict=False):
            group = "grand" if role.startswith("grand") else "ordinaire" if profile != "agent" else role
            if profile == "technicien":
                paths = ["/", "/demandes/", "/demandes/?page=2", *[f"/demandes/{r}/" for r in refs[username]],
                         "/demandes/?q=martin"]  # fmt: skip
            elif profile == "gestionnaire":
                paths = ["/", "/structure/comptes/", "/demandes/"]
            else:
                paths = ["/admin/", CHANGELIST, f"{CHANGELIST}?state__exact=envoyee",
                         *[f"{CHANGELIST}{i}/change/" for i, _ in ids[username]],
                         *[f"{CHANGELIST}?q={r}" for _, r in ids[username][:1]]]  # fmt: skip
            users.append(VirtualUser(username, group, paths))
    return users[:count] if len(users) >= count else users


def sign_in(base_url: str, users, password: str, totp_key: str, *, skip=(), threads: int = 4) -> dict:
    """One login per distinct account (a TOTP code serves once per account and 30 s), shared by its users;
    `skip`: accounts already signed in."""
    accounts = sorted({u.username for u in users} - set(skip))

    def login(username):
        client = Client(base_url)
        client.login(username, password, totp_key)
        client.close()
        return username, dict(client.cookies)

    with ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(login, accounts))


def run(base_url: str, users: list[VirtualUser], cookies: dict, seconds: float, think: float = 0.0) -> dict:
    """Each user asks its next page as soon as the previous one answered (plus `think` seconds, 0 by default:
    a stress test)."""
    samples = []  # (group, seconds, ok, started)
    lock = threading.Lock()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    deadline = start + seconds

    def loop(user: VirtualUser):
        client = Client(base_url, timeout=max(60, seconds))
        client.cookies = dict(cookies[user.username])
        mine = []
        for path in itertools.cycle(user.paths):
            if time.monotonic() >= deadline:
                break
            began = time.monotonic()
            try:
                response = client.get(path)
                ok = response.status == 200
            except OSError:
                ok = False
                client.close()
            mine.append((user.group, time.monotonic() - began, ok, began - start))
            if think:
                time.sleep(think)
        client.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=loop, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    # The client shares the machine's cores with gunicorn and PostgreSQL: its own share, in % of one core.
    return summarize(samples, elapsed, len(users), think) | {"client_cpu_pct": round(100 * cpu / elapsed)}


def summarize(samples, elapsed: float, users: int, think: float = 0.0) -> dict:
    def stats(rows):
        times = [s for _, s, ok, _ in rows if ok]
        return {
            "requests": len(rows),
            "errors": sum(1 for *_, ok, _ in rows if not ok),
            "median_ms": round(statistics.median(times) * 1000, 1) if times else None,
            "p95_ms": round(percentile(times, 95) * 1000, 1) if times else None,
        }

    result = {"users": users, "seconds": round(elapsed, 1), "think_s": think, **stats(samples)}
    result["throughput_rps"] = round(len(samples) / elapsed, 1) if elapsed else None
    result["groups"] = {GROUPS[g]: stats([s for s in samples if s[0] == g]) for g in GROUPS}
    return result
