"""`make bench`: the whole bench for one or more data sizes.

For each size: its own database (`<base>_<size>`, generated once, kept for later runs), VACUUM ANALYZE, then
gunicorn (gunicorn.conf.py, DJANGO_DEBUG=false, bench.settings) measured over HTTP with real logins: the pages
beside their floors, the history's CSV export, a closed-loop load test under each gunicorn configuration asked;
then the nightly jobs and the attachment check inside Django. Writes bench/results/<date>-<size>.md and .json,
and a chart when several sizes were measured.

    python -m bench.run --size 100k --size 1m
"""

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import replace
from datetime import date
from pathlib import Path

import psycopg

from . import load, report
from .client import Client
from .credentials import BENCH_PASSWORD, BENCH_TOTP_KEY
from .pages import PERSONAS, measure_export, measure_pages, pages, targets
from .server import ROOT, Gunicorn, collectstatic, portal_env

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ep_bench"
# gunicorn configurations of the load test: worker class:workers×threads; the first is gunicorn.conf.py's.
DEFAULT_CONFIGS = ("gthread:2x4",)


def log(message: str) -> None:
    print(message, flush=True)


def database_url_for(base_url: str, size: str) -> str:
    base, name = base_url.rsplit("/", 1)
    return f"{base}/{name}_{size}"


def _admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def ensure_data(url: str, size: str, *, regenerate: bool, env: dict) -> str:
    """The size's database, created and filled once; regenerated on demand (or when it has no bench logins)."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not regenerate:
            with psycopg.connect(url) as db:
                try:
                    ready = db.execute("SELECT count(*) FROM accounts_user WHERE username = 'bench.admin'").fetchone()
                except psycopg.Error:
                    ready = (0,)
            if ready[0]:  # reused: the migrations added since (indexes…) still apply to it
                subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                               env=dict(env, DJANGO_SETTINGS_MODULE="portal.settings", DATABASE_URL=url),
                               check=True)  # fmt: skip
                return "déjà présentes (base réutilisée, migrée)"
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    generation_env = dict(env, DJANGO_SETTINGS_MODULE="portal.settings", DATABASE_URL=url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=generation_env,
                   check=True)  # fmt: skip
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "bench_data", "--size", size], cwd=ROOT, env=generation_env,
                   check=True)  # fmt: skip
    return f"{time.perf_counter() - started:.0f} s (bench_data --size {size})"


def vacuum_analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def machine(url: str) -> dict:
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    memory = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(int(memory.split()[1]) / 1024 / 1024, 1),
        "postgres": f"PostgreSQL {version.split()[0]}",
        "load_before": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def describe(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM requests_app_demande), (SELECT count(*) FROM conventions_partenaire), "
            "(SELECT count(*) FROM accounts_user WHERE partenaire_id IS NOT NULL), "
            "(SELECT count(*) FROM conventions_caisse), (SELECT count(*) FROM requests_app_message), "
            "(SELECT count(*) FROM requests_app_demandechange), "
            "(SELECT count(*) FROM requests_app_demande d JOIN accounts_user u ON u.partenaire_id = d.partenaire_id "
            "AND u.username = 'bench.grand.technicien.01'), "
            "(SELECT count(*) FROM requests_app_demande d JOIN accounts_user u ON u.caisse_id = d.caisse_id "
            "AND u.username = 'bench.agent.grande.01')"
        ).fetchone()
    n = [f"{x:,}".replace(",", " ") for x in row]
    return (
        f"{n[0]} demandes, {n[1]} partenaires, {n[2]} comptes de partenaires, {n[3]} caisses, {n[4]} messages, "
        f"{n[5]} changements d'état ; grand partenaire : {n[6]} demandes ; grande caisse : {n[7]} demandes"
    )


def sign_in_personas(base_url: str) -> dict[str, Client]:
    clients = {}
    for persona, username in PERSONAS.items():
        client = Client(base_url)
        client.login(username, BENCH_PASSWORD, BENCH_TOTP_KEY)
        clients[persona] = client
    return clients


def measure_flatness(sizes: list[tuple[str, str, dict]], rounds: int, out: Path) -> dict:
    """Each page at every size in the same rounds (one gunicorn per size, the pages shuffled together): a page's
    growth from one size to the next is then not the machine's drift between two runs minutes apart."""
    with ExitStack() as stack:
        clients, page_list = {}, []
        for size, url, env in sizes:
            server = stack.enter_context(Gunicorn(env, log_path=out / f"gunicorn-plat-{size}.log"))
            clients |= {f"{persona}@{size}": c for persona, c in sign_in_personas(server.base_url).items()}
            page_list += [
                replace(page, key=f"{page.key}@{size}", persona=f"{page.persona}@{size}", floor=None)
                for page in pages(targets(url))
            ]
        log(f"  plat : {rounds} tours, {len(sizes)} tailles dans les mêmes tours")
        measured = measure_pages(clients, page_list, rounds, log=log)
        for client in clients.values():
            client.close()
    flat = {"sizes": [size for size, _, _ in sizes], "rounds": rounds, "pages": {}}
    for key, value in measured.items():
        page, size = key.rsplit("@", 1)
        flat["pages"].setdefault(page, {"label": value["label"]})[size] = value["page"]
    return flat


def parse_config(text: str) -> dict:
    worker_class, _, shape = text.partition(":")
    workers, _, threads = shape.partition("x")
    return {"worker_class": worker_class, "workers": int(workers), "threads": int(threads or 1)}


def measure_size(size: str, url: str, args, env: dict, out: Path) -> dict:
    """Everything measured for one size (used by `make bench` and, on a tiny data set, by the smoke test)."""
    result = {"size": size, "date": date.today().isoformat(), "rounds": args.rounds, "machine": machine(url)}
    vacuum_analyze(url)
    result["data"] = {"description": describe(url), "generation": getattr(args, "generation", "")}
    t = targets(url)
    server = Gunicorn(env, log_path=out / f"gunicorn-{size}.log")
    with server:
        result["server"] = server.label
        log(f"  gunicorn {server.label} sur {server.base_url} ; connexions…")
        clients = sign_in_personas(server.base_url)
        log(f"  pages : {args.rounds} tours")
        result["pages"] = measure_pages(clients, pages(t), args.rounds, log=log)
        if "export" not in args.skip:
            log("  export CSV")
            technicien = clients["grand.technicien"]
            result["export"] = {
                "page": measure_export(technicien, server.workers(), args.export_rounds),
                "floor": measure_export(technicien, server.workers(), args.export_rounds, floor=True),
            }
        for client in clients.values():
            client.close()
        cookies = {PERSONAS[p]: dict(c.cookies) for p, c in clients.items()}
    if "load" not in args.skip:
        result["load"] = {}
        users = load.virtual_users(url, args.users)
        for index, text in enumerate(args.configs):
            with Gunicorn(env, log_path=out / f"gunicorn-{size}.log", **parse_config(text)) as server:
                if index == 0:
                    log(f"  charge : connexion de {len({u.username for u in users})} comptes")
                    cookies |= load.sign_in(server.base_url, users, BENCH_PASSWORD, BENCH_TOTP_KEY, skip=cookies)
                log(f"  charge : {len(users)} utilisateurs, {args.seconds} s, gunicorn {server.label}")
                result["load"][server.label] = load.run(server.base_url, users, cookies, args.seconds, args.think)
    django_env = dict(env, DJANGO_SETTINGS_MODULE="bench.settings")
    for what, extra in (
        ("jobs", ["--repeats", str(args.job_repeats)]),
        ("upload", ["--rounds", str(args.upload_rounds)]),
    ):
        if what in args.skip:
            continue
        log(f"  {what}")
        answer = subprocess.run([sys.executable, "manage.py", "bench_measure", what, *extra], cwd=ROOT, env=django_env,
                                check=True, capture_output=True, text=True)  # fmt: skip
        result[what] = json.loads(answer.stdout.strip().splitlines()[-1])
    result["machine"]["load_after"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    result["requests"] = int(describe(url).split(" demandes")[0].replace(" ", ""))
    return result


def write_report(result: dict, out: Path, previous: dict | None = None) -> Path:
    stem = out / f"{result['date']}-{result['size']}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    path = stem.with_suffix(".md")
    path.write_text(report.markdown(result, previous))
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Banc de mesure des performances.")
    parser.add_argument("--size", action="append", help="taille : 10k, 100k, 1m (plusieurs possibles)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
                        help="base de référence : chaque taille a la sienne, <nom>_<taille>")  # fmt: skip
    parser.add_argument("--regenerate", action="store_true", help="régénère les données même si elles existent")
    parser.add_argument("--rounds", type=int, default=30, help="tours de mesure des pages (≥ 30)")
    parser.add_argument("--export-rounds", type=int, default=5)
    parser.add_argument("--users", type=int, default=50, help="utilisateurs simultanés du test de charge")
    parser.add_argument("--seconds", type=float, default=60, help="durée du test de charge")
    parser.add_argument("--think", type=float, default=0.0, help="pause (s) entre deux pages d'un utilisateur")
    parser.add_argument(
        "--configs",
        default=",".join(DEFAULT_CONFIGS),
        help="configurations gunicorn du test de charge, ex. gthread:2x4,sync:3x1,gthread:3x8",
    )
    parser.add_argument("--job-repeats", type=int, default=1, help="répétitions des tâches (la meilleure compte)")
    parser.add_argument("--upload-rounds", type=int, default=20, help="pièces jointes contrôlées")
    parser.add_argument("--skip", default="", help="parties à sauter : export,load,jobs,upload,plat")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--with-results", nargs="*", default=[], help="résultats JSON d'autres tailles, pour la courbe")
    args = parser.parse_args(argv)
    args.skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = [json.loads(Path(p).read_text()) for p in args.with_results]
    for size in args.size or ["100k"]:
        url = database_url_for(args.database_url, size)
        env = portal_env(url)
        log(f"[{size}] données ({url.rsplit('/', 1)[1]})")
        args.generation = ensure_data(url, size, regenerate=args.regenerate, env=env)
        collectstatic(env)
        result = measure_size(size, url, args, env, out)
        smaller = [r for r in results if r["requests"] < result["requests"]]
        previous = min(smaller, key=lambda r: r["requests"]) if smaller else None  # "flat from 100k to 1m"
        log(f"[{size}] rapport : {write_report(result, out, previous)}")
        results.append(result)
    measured = [(size, database_url_for(args.database_url, size)) for size in args.size or []]
    if len(measured) > 1 and "plat" not in args.skip:
        flat = measure_flatness([(size, url, portal_env(url)) for size, url in measured], args.rounds, out)
        biggest = max((r for r in results if r["size"] in flat["sizes"]), key=lambda r: r["requests"])
        smaller = [r for r in results if r["requests"] < biggest["requests"]]
        biggest["flat"] = flat
        log(f"[{biggest['size']}] rapport : {write_report(biggest, out, min(smaller, key=lambda r: r['requests']))}")
    if len({r["requests"] for r in results}) > 1:
        path = report.chart(results, out / f"{date.today().isoformat()}-pages.png")
        log(f"courbe : {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
