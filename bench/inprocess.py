"""What the bench measures inside a Django process (bench.run runs `manage.py bench_measure jobs|upload` with
bench.settings): the nightly jobs beside the set-based SQL doing the same change, and the attachment check beside
clamd's raw INSTREAM.

Jobs: the rows to change are prepared (conventions past their end, partners left without convention, accounts
inactivated 7 months ago), the job runs, then everything is rolled back; the same for the SQL. The data stays
re-usable; inside that outer transaction the jobs' per-batch transactions are savepoints.
"""

import os
import socket
import statistics
import struct
import time
from datetime import timedelta
from math import ceil

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from conventions.models import ConventionMetier, ConventionUtilisation
from core import uploads
from portal.jobs import BY_NAME

from . import purge_floor
from .middleware import _Counter
from .sql import history_columns

KNOWN = "SELECT partenaire_id FROM accounts_user WHERE username LIKE 'bench.%%' AND partenaire_id IS NOT NULL"


def _sql(statement: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params or {})
        return cursor.fetchall() if cursor.description else cursor.rowcount


# --- preparing the rows each job must change ------------------------------------------------------------------


def prepare_conventions(target: int) -> int:
    """`target` conventions métier in force whose end date was yesterday (C4)."""
    return _sql(
        "UPDATE conventions_conventionmetier SET end_date = %(yesterday)s WHERE id IN (SELECT id FROM "
        f"conventions_conventionmetier WHERE status = 'en_vigueur' AND partenaire_id NOT IN ({KNOWN}) "
        "ORDER BY id LIMIT %(n)s)",
        {"yesterday": timezone.localdate() - timedelta(days=1), "n": target},
    )


def prepare_accounts(target: int) -> int:
    """Partners whose only convention ended yesterday, holding about `target` accounts in service (A14)."""
    partners = _sql(
        "SELECT m.partenaire_id, (SELECT count(*) FROM accounts_user a WHERE a.partenaire_id = m.partenaire_id "
        "AND a.state IN ('invite', 'actif')) FROM conventions_conventionmetier m WHERE m.status = 'en_vigueur' "
        f"AND m.partenaire_id NOT IN ({KNOWN}) GROUP BY m.partenaire_id HAVING count(*) = 1 ORDER BY 1"
    )
    chosen, accounts = [], 0
    for partner, count in partners:
        if accounts >= target:
            break
        chosen.append(partner)
        accounts += count
    yesterday = timezone.localdate() - timedelta(days=1)
    params = {"ids": chosen, "yesterday": yesterday}
    _sql(
        "UPDATE conventions_conventionutilisation SET status = 'terminee', ended_on = %(yesterday)s WHERE "
        "convention_metier_id IN (SELECT id FROM conventions_conventionmetier WHERE partenaire_id = ANY(%(ids)s) "
        "AND status = 'en_vigueur')",
        params,
    )
    _sql(
        "UPDATE conventions_conventionmetier SET status = 'terminee', ended_on = %(yesterday)s, end_date = "
        "%(yesterday)s WHERE partenaire_id = ANY(%(ids)s) AND status = 'en_vigueur'",
        params,
    )
    return accounts


def prepare_purge(target: int) -> int:
    """`target` techniciens inactivated 7 months ago (A15: deleted after 6)."""
    return _sql(
        "UPDATE accounts_user SET state = 'inactive', inactivated_at = now() - interval '7 months', "
        "state_changed_at = now() - interval '7 months', inactivation_reason = 'left_structure' WHERE id IN ("
        "SELECT id FROM accounts_user WHERE profile = 'technicien' AND state IN ('actif', 'inactive') AND "
        "username NOT LIKE 'bench.%%' ORDER BY id LIMIT %(n)s)",
        {"n": target},
    )


# --- the same changes, set-based: one statement each ------------------------------------------------------------


def _history_insert(model, source: str, reason: str) -> str:
    columns = ", ".join(history_columns(model))
    table = model.history.model._meta.db_table
    return (
        f"INSERT INTO {table} ({columns}, history_date, history_change_reason, history_type, history_user_id) "
        f"SELECT {columns}, now(), '{reason}', '~', NULL FROM {source}"
    )


def _journal(action: str, target_type: str, source: str, label: str, details: str = "{}") -> str:
    return (
        "INSERT INTO portal_journalentry (at, action, target_type, target_id, target_label, details) "
        f"SELECT now(), '{action}', '{target_type}', id::text, {label}, '{details}'::jsonb FROM {source}"
    )


END_CONVENTIONS_SQL = f"""
WITH ended AS (
    UPDATE conventions_conventionmetier SET status = 'terminee', ended_on = end_date
    WHERE id IN (SELECT id FROM conventions_conventionmetier WHERE status = 'en_vigueur' AND end_date < %(today)s
                 FOR UPDATE SKIP LOCKED)
    RETURNING *
), utilisations AS (
    UPDATE conventions_conventionutilisation u SET status = 'terminee', ended_on = e.ended_on FROM ended e
    WHERE u.convention_metier_id = e.id AND u.status = 'en_vigueur' RETURNING u.*
), h1 AS ({_history_insert(ConventionMetier, "ended", "")}
), h2 AS ({_history_insert(ConventionUtilisation, "utilisations", "")}
), j1 AS ({_journal("convention_ended", "conventions.conventionmetier", "ended", "'Convention métier n° ' || id")}
), j2 AS ({
    _journal(
        "convention_ended", "conventions.conventionutilisation", "utilisations", "'Convention d''utilisation n° ' || id"
    )
}
)
SELECT count(*) FROM ended
"""

INACTIVATE_SQL = f"""
WITH due AS (
    SELECT a.id FROM accounts_user a
    WHERE a.partenaire_id IS NOT NULL AND a.state IN ('invite', 'actif')
      AND EXISTS (SELECT 1 FROM conventions_conventionmetier m WHERE m.partenaire_id = a.partenaire_id)
      AND NOT EXISTS (
          SELECT 1 FROM conventions_conventionutilisation u
          JOIN conventions_conventionmetier m ON m.id = u.convention_metier_id
          WHERE m.partenaire_id = a.partenaire_id AND m.status = 'en_vigueur' AND m.start_date <= %(today)s
            AND (m.end_date IS NULL OR m.end_date >= %(today)s) AND u.status = 'en_vigueur'
            AND u.signed_on <= %(today)s)
    FOR UPDATE OF a SKIP LOCKED
), changed AS (
    UPDATE accounts_user a SET state = 'inactive', state_changed_at = now(), inactivated_at = now(),
        inactivation_reason = 'convention_ended'
    FROM due WHERE a.id = due.id RETURNING a.*
), tokens AS (
    UPDATE accounts_accounttoken SET revoked_at = now()
    WHERE user_id IN (SELECT id FROM changed) AND used_at IS NULL AND revoked_at IS NULL
), h AS ({_history_insert(User, "changed", "Fin de la convention")}
), j AS ({
    _journal("account_inactivated", "accounts.user", "changed", "'Compte n° ' || id", '{"motif": "convention_ended"}')
}
)
SELECT count(*) FROM changed
"""


def _measured(prepare, target: int, action) -> dict:
    """Prepare, run `action` with its queries counted and timed, roll everything back."""
    counter = _Counter()
    with transaction.atomic():
        prepared = prepare(target)
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            changed = action()
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return {"prepared": prepared, "changed": changed, "seconds": seconds, "queries": counter.queries}


def bench_jobs(repeats: int, scale: dict) -> dict:
    today = timezone.localdate()
    jobs = (
        ("fin_conventions", "conventions à leur échéance", prepare_conventions, scale["conventions"],
         END_CONVENTIONS_SQL, {"today": today}),
        ("comptes_sans_convention", "comptes des structures sans convention", prepare_accounts, scale["accounts"],
         INACTIVATE_SQL, {"today": today}),
        ("suppression_comptes", "comptes inactivés depuis 6 mois", prepare_purge, scale["purge"],
         lambda: purge_floor.run(_sql, settings.AXES_COOLOFF_TIME), {}),
    )  # fmt: skip
    results = {}
    for name, label, prepare, target, sql, params in jobs:
        runs = {"job": [], "sql": []}
        for _ in range(repeats):
            runs["job"].append(_measured(prepare, target, lambda name=name: BY_NAME[name].run()))
            statement = sql if callable(sql) else (lambda sql=sql, params=params: _sql(sql, params)[0][0])
            runs["sql"].append(_measured(prepare, target, statement))
        job, floor = (min(runs[k], key=lambda r: r["seconds"]) for k in ("job", "sql"))
        batches = max(1, ceil(job["changed"] / settings.JOBS_BATCH_SIZE))
        results[name] = {
            "label": label,
            "rows": job["changed"],
            "sql_rows": floor["changed"],
            "job_s": round(job["seconds"], 3),
            "sql_s": round(floor["seconds"], 3),
            "ratio": round(job["seconds"] / floor["seconds"], 1) if floor["seconds"] else None,
            "job_queries": job["queries"],
            "batches": batches,
            "queries_per_batch": round(job["queries"] / batches, 1),
        }
    return results


# --- the attachment check vs clamd's own INSTREAM ---------------------------------------------------------------


def make_pdf(target_bytes: int = 1_000_000, pages: int = 5) -> bytes:
    """A scanned-looking PDF: `pages` pages, each one greyscale image of about target_bytes / pages."""
    side = int((target_bytes / pages) ** 0.5)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", None]
    kids = []
    for page in range(pages):
        image = os.urandom(side * side)  # incompressible, as a scan is
        image_id, content_id, page_id = len(objects) + 1, len(objects) + 2, len(objects) + 3
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 "
            b"/Length %d >>\nstream\n%s\nendstream" % (side, side, len(image), image)
        )
        content = b"q 595 0 0 842 0 0 cm /Im0 Do Q BT /F1 12 Tf 72 800 Td (Page %d) Tj ET" % (page + 1)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /XObject << /Im0 %d 0 R >> >> >>" % (content_id, image_id)
        )
        kids.append(b"%d 0 R" % page_id)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), pages)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def raw_instream(data: bytes) -> str:
    """clamd's INSTREAM, nothing else: what the scan itself costs."""
    with socket.create_connection((settings.CLAMD_HOST, settings.CLAMD_PORT), timeout=30) as sock:
        sock.sendall(b"zINSTREAM\0")
        for start in range(0, len(data), 64 * 1024):
            chunk = data[start : start + 64 * 1024]
            sock.sendall(struct.pack("!L", len(chunk)) + chunk)
        sock.sendall(struct.pack("!L", 0))
        reply = b""
        while not reply.endswith(b"\0"):
            part = sock.recv(4096)
            if not part:
                break
            reply += part
    return reply.rstrip(b"\0").decode()


def bench_upload(rounds: int) -> dict:
    pdf = make_pdf()
    check, raw = [], []
    for index in range(rounds + 1):  # the first of each is a warm-up; the order alternates
        for which in ("check", "raw") if index % 2 else ("raw", "check"):
            started = time.perf_counter()
            if which == "check":
                checked = uploads.check_upload(SimpleUploadedFile("justificatif.pdf", pdf, "application/pdf"))
            else:
                reply = raw_instream(pdf)
            if index:
                (check if which == "check" else raw).append(time.perf_counter() - started)
        if reply != "stream: OK" or checked.mime != "application/pdf":
            raise RuntimeError(f"clamd : {reply!r}, type {checked.mime}")
    check_ms, raw_ms = statistics.median(check) * 1000, statistics.median(raw) * 1000
    return {
        "bytes": len(pdf),
        "check_ms": round(check_ms, 1),
        "instream_ms": round(raw_ms, 1),
        "ratio": round(check_ms / raw_ms, 2),
    }


def job_scale() -> dict:
    """The measured volumes (500 conventions, 10,000 inactivations, 9,000 deletions), less on a small data set."""
    occupying = User.objects.filter(partenaire__isnull=False, state__in=("invite", "actif")).count()
    in_force = ConventionMetier.objects.filter(status="en_vigueur").count()
    return {
        "conventions": min(500, in_force // 10),
        "accounts": min(10_000, occupying // 5),
        "purge": min(9_000, occupying // 5),
    }
