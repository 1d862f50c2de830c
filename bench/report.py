"""The bench's report: `bench/results/<date>-<size>.md` (French, for the README and the issue) and a chart of
page time against data size when several sizes were measured."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

# The national-scale targets each line is held to (README « Performance »).
FLOOR_BOUND = {"history", "history_filter", "history_ref", "history_name", "history_small", "changelist",
               "changelist_state", "admin_ref", "admin_name"}  # fmt: skip
ABSOLUTE_BOUND_MS = {"home_tech": 150, "home_gest": 150, "home_tech_small": 150, "dashboard": 150,
                     "dashboard_small": 150}  # fmt: skip


def _ms(value) -> str:
    return "–" if value is None else f"{value:,.0f}".replace(",", " ") if value >= 100 else f"{value:.1f}"


def _mark(ok: bool | None) -> str:
    return "" if ok is None else " ✓" if ok else " ✗"


def _think(result: dict) -> float:
    return max((r.get("think_s", 0) for r in result["load"].values()), default=0)


# "Cost follows the page, not the table": the p95 at the bigger size, at most this many times the smaller one's.
FLAT_BOUND = 1.3


def flat_verdict(key: str, ratio: float) -> bool | None:
    return ratio <= FLAT_BOUND if key in FLOOR_BOUND or key in ABSOLUTE_BOUND_MS else None


def _same_rounds_growth(result: dict, key: str) -> tuple[float, str] | None:
    """The page's p95 at this size over its p95 at the smallest, both measured in the same rounds."""
    flat = result.get("flat")
    if not flat or key not in flat["pages"]:
        return None
    smaller, bigger = flat["sizes"][0], result["size"]
    before, after = flat["pages"][key][smaller]["p95_ms"], flat["pages"][key][bigger]["p95_ms"]
    return (after / before, smaller) if before and after else None


def _flat_section(result: dict) -> list[str]:
    flat = result["flat"]
    smaller, bigger = flat["sizes"][0], result["size"]
    lines = [
        "",
        f"## Plat de {smaller} à {bigger} : chaque page aux deux tailles dans les mêmes tours",
        "",
        f"Un gunicorn par taille, les pages des deux tailles mélangées dans chacun des {flat['rounds']} tours : "
        "la croissance d'une page n'est pas la dérive de la machine entre deux exécutions.",
        "",
        f"| page | médiane {smaller} / {bigger} (ms) | p95 {smaller} / {bigger} (ms) | p95 {bigger} / p95 {smaller} |",
        "|---|---|---|---|",
    ]
    for key, page in flat["pages"].items():
        a, b = page[smaller], page[bigger]
        growth = b["p95_ms"] / a["p95_ms"] if a["p95_ms"] and b["p95_ms"] else None
        lines.append(
            f"| {page['label']} | {_ms(a['median_ms'])} / {_ms(b['median_ms'])} | {_ms(a['p95_ms'])} / "
            f"{_ms(b['p95_ms'])} | {'–' if growth is None else f'{growth:.2f}'}"
            f"{'' if growth is None else _mark(flat_verdict(key, growth))} |"
        )
    return lines


def page_verdict(key: str, page: dict) -> bool | None:
    p95, floor = page["page"]["p95_ms"], page["floor"]["p95_ms"]
    if page["page"]["error_count"] or p95 is None:
        return False
    if key in FLOOR_BOUND and floor:
        return p95 <= 2 * floor
    if key in ABSOLUTE_BOUND_MS:
        return p95 <= ABSOLUTE_BOUND_MS[key]
    return None


def markdown(result: dict, previous: dict | None = None) -> str:
    m, size = result["machine"], result["size"]
    lines = [
        f"# Banc de mesure — taille {size} — {result['date']}",
        "",
        f"- Machine : {m['nproc']} cœurs, {m['memory_gib']} Gio de mémoire, {m['postgres']} ; "
        f"charge (1, 5, 15 min) avant : {m['load_before']}, après : {m['load_after']}.",
        f"- Données : {result['data']['description']} ; génération : {result['data']['generation']}.",
        f"- Serveur des pages : gunicorn {result['server']} (`gunicorn.conf.py`), `DJANGO_DEBUG=false`, "
        f"{result['rounds']} tours entrelacés après un tour d'échauffement ; p95 par interpolation.",
        "- Plancher : les mêmes lignes par une seule requête SQL écrite à la main, rendues par une vue minimale "
        "(gabarit minimal dans la mise en page du site : en-tête, menu, pied de page du portail ou du back-office), "
        "même session et mêmes middlewares. Ratio : p95 de la page / p95 du plancher.",
        "- Objectifs : ✓ / ✗ — historique et listes de l'admin : p95 ≤ 2 × plancher ; accueils et "
        f"tableaux de bord : p95 ≤ 150 ms ; les uns et les autres plats : p95 ≤ {FLAT_BOUND} × celui de la taille "
        "inférieure (entre parenthèses ; « mêmes tours » : mesurés ensemble, voir plus bas).",
        "",
        "## Pages",
        "",
        "| taille | page | médiane (ms) | p95 (ms) | plancher médiane / p95 (ms) | ratio p95 | requêtes SQL "
        "(temps SQL médian) | erreurs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, page in result["pages"].items():
        p, f = page["page"], page["floor"]
        ratio = p["p95_ms"] / f["p95_ms"] if p["p95_ms"] and f["p95_ms"] else None
        flat = ""
        same_rounds = _same_rounds_growth(result, key)
        if same_rounds:
            growth, smaller = same_rounds
            flat = f" ({growth:.2f}× à {smaller}, mêmes tours{_mark(flat_verdict(key, growth))})"
        elif previous and key in previous.get("pages", {}):
            before = previous["pages"][key]["page"]["p95_ms"]
            if before and p["p95_ms"]:
                growth = p["p95_ms"] / before
                flat = f" ({growth:.2f}× à {previous['size']}{_mark(flat_verdict(key, growth))})"
        verdict = _mark(page_verdict(key, page))
        lines.append(
            f"| {size} | {page['label']} | {_ms(p['median_ms'])} | {_ms(p['p95_ms'])}"
            f"{verdict if key in ABSOLUTE_BOUND_MS else ''}{flat} | {_ms(f['median_ms'])} / {_ms(f['p95_ms'])} | "
            f"{'–' if ratio is None else f'{ratio:.1f}'}{verdict if key in FLOOR_BOUND else ''} | "
            f"{p['queries'] if p['queries'] is not None else '–'} ({_ms(p['sql_ms'])} ms) | "
            f"{p['error_count'] + f['error_count'] or ''} |"
        )
    if result.get("flat"):
        lines += _flat_section(result)
    if "export" in result:
        e, ef = result["export"]["page"], result["export"]["floor"]
        lines += [
            "",
            "## Export CSV de l'historique (grand partenaire)",
            "",
            "| | lignes | médiane (ms) | lignes/s | mémoire du worker : avant → pic (croissance), VmHWM |",
            "|---|---|---|---|---|",
        ]
        for label, x in (("page `demandes/export.csv`", e), ("plancher (`COPY … TO STDOUT`)", ef)):
            if "error" in x:
                lines.append(f"| {label} | {x['error']} | | | |")
                continue
            lines.append(
                f"| {label} | {x['rows']} | {_ms(x['median_ms'])} | {x['rows_per_s']:,}".replace(",", " ")
                + f"{_mark(x['rows_per_s'] >= 20_000) if label.startswith('page') else ''} | "
                f"{x['rss_before_mib']} → {x['rss_peak_mib']} Mio (+{x['rss_growth_mib']}), {x['vmhwm_mib']} Mio |"
            )
    if "jobs" in result:
        lines += [
            "",
            "## Tâches de nuit contre leur SQL ensembliste (préparées puis annulées)",
            "",
            "| tâche | lignes | tâche (s) | SQL (s) | ratio | requêtes : total (par lot × lots ; par ligne) |",
            "|---|---|---|---|---|---|",
        ]
        for name, j in result["jobs"].items():
            lines.append(
                f"| {j['label']} (`{name}`) | {j['rows']} | {j['job_s']} | {j['sql_s']} | "
                f"{j['ratio']}{_mark(j['ratio'] is not None and j['ratio'] <= 3)} | {j['job_queries']} "
                f"({j['queries_per_batch']} × {j['batches']} ; {j['job_queries'] / max(j['rows'], 1):.2f}) |"
            )
    if "upload" in result:
        u = result["upload"]
        lines += [
            "",
            "## Pièce jointe",
            "",
            f"Contrôle complet d'un PDF de {u['bytes'] // 1000} ko (type, lisibilité, antivirus) : {u['check_ms']} ms "
            f"(médiane) ; INSTREAM brut de clamd pour les mêmes octets : {u['instream_ms']} ms ; ratio "
            f"{u['ratio']}.",
        ]
    if "load" in result:
        lines += [
            "",
            "## Charge : utilisateurs simultanés en boucle fermée, "
            + (f"pause de {think} s entre deux pages" if (think := _think(result)) else "sans temps de réflexion"),
            "",
            "| configuration gunicorn | utilisateurs | durée (s) | requêtes/s | médiane (ms) | p95 (ms) | erreurs | "
            "p95 grand partenaire / ordinaires / agents grande caisse (ms) | CPU du client (% d'un cœur) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for config, r in result["load"].items():
            g = r["groups"]
            ok = r["errors"] == 0 and r["p95_ms"] is not None and r["p95_ms"] <= 1000
            lines.append(
                f"| {config} | {r['users']} | {r['seconds']} | {r['throughput_rps']} | {_ms(r['median_ms'])} | "
                f"{_ms(r['p95_ms'])}{_mark(ok)} | {r['errors']} | {_ms(g['grand partenaire']['p95_ms'])} / "
                f"{_ms(g['partenaires ordinaires']['p95_ms'])} / {_ms(g['agents de la grande caisse']['p95_ms'])} | "
                f"{r.get('client_cpu_pct', '–')} |"
            )
    return "\n".join(lines) + "\n"


def chart(results: list[dict], path: Path) -> Path:
    """p95 of each page (solid) and of its floor (dashed) against the number of requests, log-log."""
    results = sorted(results, key=lambda r: r["requests"])
    sizes = [r["requests"] for r in results]
    keys = [k for k in results[-1]["pages"] if all(k in r["pages"] for r in results)]
    admin = ("dashboard", "changelist", "admin")
    groups = (
        ("Pages des partenaires", [k for k in keys if not k.startswith(admin)]),
        ("Back-office des caisses", [k for k in keys if k.startswith(admin)]),
    )
    figure, axes = plt.subplots(1, 2, figsize=(14, 6), sharey=True)
    for axis, (title, group) in zip(axes, groups, strict=True):
        for index, key in enumerate(group):
            color = plt.cm.tab20(index % 20)
            label = results[-1]["pages"][key]["label"]
            axis.plot(sizes, [r["pages"][key]["page"]["p95_ms"] for r in results], "o-", color=color, label=label)
            axis.plot(sizes, [r["pages"][key]["floor"]["p95_ms"] for r in results], "x--", color=color, alpha=0.6)
        axis.set(xscale="log", yscale="log", title=title, xlabel="demandes en base")
        axis.set_xticks(sizes, [r["size"] for r in results])
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel("p95 (ms) — trait plein : page ; tirets : son plancher SQL")
    figure.suptitle("Temps des pages selon le volume de données")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
