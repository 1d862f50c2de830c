"""The floors of the bench: for each measured page, the same rows fetched by ONE hand-written SQL
statement and rendered by a minimal view with a plain template, inside the site's layout (the portal's for
partner pages, the admin's for back-office pages: what every page shows whatever its list). Same URLconf, same
middleware, same signed-in session as the page: the ratio page / floor isolates what the list itself costs —
its queries, its form, its rows. Only in bench.settings.
"""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render

from core.text import fold

PARIS = ZoneInfo("Europe/Paris")
REFERENCE = re.compile(r"EP-\d{2}-[0-9A-Z]{4}-[0-9A-Z]{4}", re.IGNORECASE)
FINAL = "('traitee', 'cloturee')"

HISTORY = """
SELECT d.reference, d.kind, d.assure_last_name, d.assure_first_name, c.name, d.state, d.created_at,
       u.first_name, u.last_name
FROM requests_app_demande d
JOIN conventions_caisse c ON c.id = d.caisse_id
JOIN accounts_user u ON u.id = d.filed_by_id
WHERE d.partenaire_id = %(partenaire)s {filters}
ORDER BY d.created_at DESC, d.id DESC
LIMIT 25
"""

CHANGELIST = """
SELECT d.reference, d.kind, p.name, d.state, a.first_name, a.last_name, d.created_at
FROM requests_app_demande d
JOIN conventions_partenaire p ON p.id = d.partenaire_id
LEFT JOIN accounts_user a ON a.id = d.assigned_to_id
WHERE d.caisse_id = %(caisse)s {filters}
ORDER BY d.created_at, d.id DESC
LIMIT 50
"""

DASHBOARD = f"""
SELECT count(*) FILTER (WHERE state = 'envoyee'), count(*) FILTER (WHERE state = 'en_cours'),
       count(*) FILTER (WHERE state = 'en_attente'), count(*) FILTER (WHERE state = 'traitee'),
       count(*) FILTER (WHERE state = 'cloturee'),
       count(*) FILTER (WHERE state NOT IN {FINAL} AND assigned_to_id IS NULL),
       count(*) FILTER (WHERE state NOT IN {FINAL} AND assigned_to_id = %(user)s)
FROM requests_app_demande WHERE caisse_id = %(caisse)s
"""

DETAIL = """
SELECT d.reference, d.kind, d.state, d.created_at, d.assure_last_name, d.assure_first_name, c.name, p.name,
       (SELECT json_agg(json_build_array(m.created_at, m.side, a.first_name, a.last_name, m.body,
                (SELECT json_agg(pj.original_name) FROM requests_app_piecejointe pj WHERE pj.message_id = m.id))
                ORDER BY m.created_at, m.id)
        FROM requests_app_message m JOIN accounts_user a ON a.id = m.author_id
        WHERE m.demande_id = d.id {internal}),
       (SELECT json_agg(json_build_array(s.at, s.old_value, s.new_value, b.first_name, b.last_name)
                ORDER BY s.at, s.id)
        FROM requests_app_demandechange s JOIN accounts_user b ON b.id = s.by_id WHERE s.demande_id = d.id)
FROM requests_app_demande d
JOIN conventions_caisse c ON c.id = d.caisse_id
JOIN conventions_partenaire p ON p.id = d.partenaire_id
WHERE {where}
"""

HOME = """
SELECT c.name, u.signed_on, u.service_contact, u.service_etude_dossier, u.service_signalement,
       u.service_rendez_vous, u.service_document, u.service_historique
FROM conventions_conventionutilisation u
JOIN conventions_conventionmetier m ON m.id = u.convention_metier_id
JOIN conventions_caisse c ON c.id = m.caisse_id
WHERE m.partenaire_id = %(partenaire)s AND m.status = 'en_vigueur' AND u.status = 'en_vigueur'
  AND m.start_date <= current_date AND (m.end_date IS NULL OR m.end_date >= current_date)
  AND u.signed_on <= current_date
ORDER BY c.name
"""

ACCOUNTS = """
SELECT a.username, a.first_name, a.last_name, a.profile, a.state, a.date_joined, a.last_login,
       b.first_name, b.last_name
FROM accounts_user a LEFT JOIN accounts_user b ON b.id = a.created_by_id
WHERE a.partenaire_id = %(partenaire)s AND a.state <> 'supprime'
ORDER BY a.profile, a.last_name, a.first_name
"""

EXPORT = """
COPY (
    SELECT d.reference, d.kind, c.name, d.state,
           to_char(d.created_at AT TIME ZONE 'Europe/Paris', 'DD/MM/YYYY HH24:MI'),
           coalesce(nullif(trim(u.first_name || ' ' || u.last_name), ''), 'Compte supprimé'),
           d.assure_last_name, d.assure_first_name
    FROM requests_app_demande d
    JOIN conventions_caisse c ON c.id = d.caisse_id
    JOIN accounts_user u ON u.id = d.filed_by_id
    WHERE d.partenaire_id = {partenaire}
    ORDER BY d.created_at DESC, d.id DESC
) TO STDOUT WITH (FORMAT csv, DELIMITER ';', HEADER)
"""


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


def _search_filters(request, params: dict) -> list[str]:
    """The history's and the changelist's filters as a DBA would write them: a reference matched exactly,
    names by the folded search column, dates as a range of instants in Paris time."""
    filters = []
    q = request.GET.get("q", "").strip()
    if q and REFERENCE.fullmatch(q):
        filters.append("AND d.reference = %(reference)s")
        params["reference"] = q.upper()
    elif q:
        filters.append("AND d.search_text LIKE %(pattern)s")
        params["pattern"] = f"%{fold(q)}%"
    for name in ("state", "kind"):
        if request.GET.get(name):
            filters.append(f"AND d.{name} = %({name})s")
            params[name] = request.GET[name]
    if request.GET.get("since"):
        filters.append("AND d.created_at >= %(since)s")
        params["since"] = _day_start(date.fromisoformat(request.GET["since"]))
    if request.GET.get("until"):
        filters.append("AND d.created_at < %(until)s")
        params["until"] = _day_start(date.fromisoformat(request.GET["until"]) + timedelta(days=1))
    return filters


def _fetch(sql: str, params: dict):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        return columns, cursor.fetchall()


def _export(partenaire_id: int) -> StreamingHttpResponse:
    def chunks():
        with connection.cursor() as cursor, cursor.cursor.copy(EXPORT.format(partenaire=int(partenaire_id))) as copy:
            yield "\ufeff".encode()
            yield from copy

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="plancher.csv"'
    return response


ADMIN_FLOORS = {"demandes-admin", "tableau-de-bord", "demande-admin"}


@login_required
def floor(request, name):
    user = request.user
    params = {"partenaire": user.partenaire_id, "caisse": user.caisse_id, "user": user.pk}
    if name == "historique":
        sql = HISTORY.format(filters=" ".join(_search_filters(request, params)))
    elif name == "export":
        return _export(user.partenaire_id)
    elif name == "demandes-admin":
        sql = CHANGELIST.format(filters=" ".join(_search_filters(request, params)))
    elif name == "tableau-de-bord":
        sql = DASHBOARD
    elif name == "demande":
        params["reference"] = request.GET.get("reference", "")
        sql = DETAIL.format(where="d.reference = %(reference)s AND d.partenaire_id = %(partenaire)s",
                            internal="AND NOT m.internal")  # fmt: skip
    elif name == "demande-admin":
        params["id"] = int(request.GET.get("id", 0))
        sql = DETAIL.format(where="d.id = %(id)s AND d.caisse_id = %(caisse)s", internal="")
    elif name == "accueil":
        sql = HOME
    elif name == "comptes":
        sql = ACCOUNTS
    else:
        raise Http404
    columns, rows = _fetch(sql, params)
    context = {"name": name, "columns": columns, "rows": rows, "title": f"Plancher {name}"}
    if name in ADMIN_FLOORS:
        return render(request, "bench/floor_admin.html", {**admin.site.each_context(request), **context})
    return render(request, "bench/floor.html", context)
