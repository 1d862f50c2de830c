"""The requests of the bench, generated inside PostgreSQL (INSERT … SELECT generate_series), with their first
message, the caisse's answers, the history of their states and the supporting documents of the études de dossier.

One row of `bench_alloc` per (partner, caisse): how many requests, who may file them (the partner's techniciens),
who may process them (the caisse's agents) and their age window (requests to an ended convention predate its end,
D9). Everything else is drawn per row from `random()` after `setseed()`: the same plan gives the same data.
"""

from django.db import connection

from core.text import fold
from requests_app.insured import DEPARTEMENTS
from requests_app.models import Demande, DemandeChange, Message, PieceJointe

from . import vocabulary as voc
from .sql import insert_defaults_sql

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # requests_app.models.demande.REFERENCE_ALPHABET
# n ↦ (n × odd) mod 2⁴⁰ xor constant is a bijection on 40 bits: 8 base-32 digits, distinct for distinct n,
# random-looking like the portal's own references (EP-26-7K3M-9QXA).
_MULTIPLIER, _MASK, _XOR = 137_438_953_447, (1 << 40) - 1, 733_007_751_853


def _reference_sql(n: str, created_at: str) -> str:
    body = f"((({n}::bigint * {_MULTIPLIER}) & {_MASK}) # {_XOR})"
    digits = [f"substr('{REFERENCE_ALPHABET}', ((({body} >> {5 * k}) & 31) + 1)::int, 1)" for k in range(8)]
    year = f"to_char({created_at} AT TIME ZONE 'Europe/Paris', 'YY')"
    return f"'EP-' || {year} || '-' || {' || '.join(digits[:4])} || '-' || {' || '.join(digits[4:])}"


def _pick(array: str, draw: str) -> str:
    return f"({array})[1 + floor({draw} * cardinality({array}))::int]"


# D7, by age in days: recent requests open, old ones final (traitée or clôturée sans suite).
STATE_SQL = """CASE
    WHEN age < 2 THEN CASE WHEN r_state < 0.70 THEN 'envoyee' WHEN r_state < 0.95 THEN 'en_cours' ELSE 'en_attente' END
    WHEN age < 30 THEN CASE WHEN r_state < 0.15 THEN 'envoyee' WHEN r_state < 0.50 THEN 'en_cours'
        WHEN r_state < 0.65 THEN 'en_attente' WHEN r_state < 0.95 THEN 'traitee' ELSE 'cloturee' END
    WHEN age < 90 THEN CASE WHEN r_state < 0.01 THEN 'envoyee' WHEN r_state < 0.05 THEN 'en_cours'
        WHEN r_state < 0.10 THEN 'en_attente' WHEN r_state < 0.90 THEN 'traitee' ELSE 'cloturee' END
    ELSE CASE WHEN r_state < 0.88 THEN 'traitee' ELSE 'cloturee' END
END"""

KIND_SQL = """CASE WHEN r_kind < 0.35 THEN 'contact' WHEN r_kind < 0.55 THEN 'etude_dossier'
    WHEN r_kind < 0.65 THEN 'signalement' WHEN r_kind < 0.80 THEN 'rendez_vous' ELSE 'document' END"""

DRAWS = ("r_age", "r_t", "r_state", "r_kind", "r_sub", "r_misc", "r_last", "r_first", "r_birth", "r_dep", "r_who",
         "r_agent", "r_delay")  # fmt: skip

DEMANDE_COLUMNS = {
    "reference": _reference_sql("n", "created_at"),
    "kind": "kind",
    "partenaire_id": "partenaire_id",
    "caisse_id": "caisse_id",
    "filed_by_id": _pick("techs", "r_who"),
    "created_at": "created_at",
    "state": "state",
    "state_changed_at": "CASE WHEN state = 'envoyee' THEN created_at ELSE least(created_at + (0.2 + r_delay * "
    "least(age, 20)) * interval '1 day', now() - interval '1 minute') END",
    # The work queues' last change of each side (requests_app.services keeps them): the caisse's last move, the
    # partner's filing.
    "caisse_changed_at": "CASE WHEN state = 'envoyee' THEN NULL ELSE least(created_at + (0.2 + r_delay * "
    "least(age, 20)) * interval '1 day', now() - interval '1 minute') END",
    "partner_changed_at": "created_at",
    "assigned_to_id": f"CASE WHEN state = 'envoyee' THEN NULL ELSE {_pick('agents', 'r_agent')} END",
    "form_token": "md5('bench:' || n)::uuid",
    "assure_civilite": "(%(civilites)s::text[])[fi]",
    "assure_last_name": "(%(last_names)s::text[])[li]",
    "assure_first_name": "(%(first_names)s::text[])[fi]",
    "assure_birth_date": "date '1935-01-01' + floor(r_birth * 29000)::int",
    "assure_departement": _pick("%(departements)s::text[]", "r_dep"),
    # fold(reference + last + first): a reference folds to its lower case, the names are folded in Python.
    "search_text": f"lower({_reference_sql('n', 'created_at')}) || ' ' || (%(last_folded)s::text[])[li] || ' ' || "
    "(%(first_folded)s::text[])[fi]",
    "dossier_type": "CASE WHEN kind = 'etude_dossier' THEN (ARRAY['puma', 'css', 'ame', 'autre'])"
    "[1 + floor(r_sub * 4)::int] ELSE '' END",
    "dossier_other": "CASE WHEN kind = 'etude_dossier' AND r_sub >= 0.75 THEN 'Aide financière exceptionnelle' "
    "ELSE '' END",
    "nature": "CASE WHEN kind = 'signalement' THEN (ARRAY['rupture_droits', 'renoncement', 'demarches', 'autre'])"
    "[1 + floor(r_sub * 4)::int] ELSE '' END",
    "urgency": "CASE WHEN kind = 'signalement' THEN CASE WHEN r_misc < 0.2 THEN 'urgente' ELSE 'normale' END "
    "ELSE '' END",
    "reason": f"CASE WHEN kind = 'rendez_vous' THEN {_pick('%(rdv_reasons)s::text[]', 'r_misc')} ELSE '' END",
    "modality": "CASE WHEN kind = 'rendez_vous' THEN (ARRAY['sur_place', 'telephone', 'visio'])"
    "[1 + floor(r_sub * 3)::int] ELSE '' END",
    "slot_1": "CASE WHEN kind = 'rendez_vous' THEN created_at + interval '3 days' END",
    "slot_2": "CASE WHEN kind = 'rendez_vous' AND r_sub < 0.5 THEN created_at + interval '4 days' END",
    "slot_3": "NULL::timestamptz",
    "worker_attends": "CASE WHEN kind = 'rendez_vous' THEN r_misc < 0.5 END",
    "appointment_at": "CASE WHEN kind = 'rendez_vous' AND state = 'traitee' THEN created_at + interval '3 days' END",
    "appointment_place": "CASE WHEN kind = 'rendez_vous' AND state = 'traitee' THEN 'Accueil de la caisse, guichet 2' "
    "ELSE '' END",
    "document_type": "CASE WHEN kind = 'document' THEN (ARRAY['attestation_droits', 'ceam_provisoire', "
    "'formulaire_carte_vitale', 'offres_prevention', 'autre'])[1 + floor(r_sub * 5)::int] ELSE '' END",
    "document_other": "CASE WHEN kind = 'document' AND r_sub >= 0.8 THEN 'Relevé de situation' ELSE '' END",
    "delivery": "CASE WHEN kind = 'document' THEN CASE WHEN receives AND r_misc < 0.5 THEN 'partenaire' "
    "ELSE 'assure' END ELSE '' END",
}


def _insert(cursor, model, columns: dict[str, str], source: str, params: dict, suffix: str = "") -> int:
    """INSERT INTO model (columns…, columns the model added since, at their default) SELECT … FROM source."""
    extra_columns, extra_values = insert_defaults_sql(model, list(columns))
    params = {**params, **{f"default_{i}": value for i, value in enumerate(extra_values)}}
    names = list(columns) + extra_columns
    expressions = list(columns.values()) + [f"%(default_{i})s" for i in range(len(extra_values))]
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) SELECT {', '.join(expressions)} FROM {source} "
        f"{suffix}",
        params,
    )
    return cursor.rowcount


def generate_requests(allocations: list[tuple], seed: int) -> dict[str, int]:
    """`allocations`: rows of bench_alloc (partner, caisse, n, techniciens, agents, min age, max age, habilité)."""
    draws = ", ".join(f"random() AS {name}" for name in DRAWS)
    source = f"""(
        SELECT l2.*, {STATE_SQL} AS state FROM (
            SELECT l1.*, {KIND_SQL} AS kind,
                least(now() - interval '5 minutes', ((((now() AT TIME ZONE 'Europe/Paris')::date - age)::timestamp
                    + interval '8 hours' + r_t * interval '10 hours') AT TIME ZONE 'Europe/Paris')) AS created_at,
                1 + floor(r_last * cardinality(%(last_names)s::text[]))::int AS li,
                1 + floor(r_first * cardinality(%(first_names)s::text[]))::int AS fi
            FROM (
                SELECT l0.*, min_age + floor(power(r_age, 1.2) * (max_age - min_age + 1))::int AS age FROM (
                    SELECT row_number() OVER () AS n, a.*, {draws}
                    FROM bench_alloc a CROSS JOIN LATERAL generate_series(1, a.n_requests) AS g(i)
                    OFFSET 0  -- a fence: each random() is drawn once per row, not once per use
                ) l0
            ) l1
        ) l2
    ) l3"""
    params = {
        "last_names": list(voc.LAST_NAMES),
        "last_folded": [fold(name) for name in voc.LAST_NAMES],
        "first_names": [name for name, _ in voc.FIRST_NAMES],
        "first_folded": [fold(name) for name, _ in voc.FIRST_NAMES],
        "civilites": [civilite for _, civilite in voc.FIRST_NAMES],
        "departements": list(DEPARTEMENTS),
        "rdv_reasons": list(voc.RDV_REASONS),
    }
    counts = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_alloc (partenaire_id bigint, caisse_id bigint, n_requests int, techs bigint[], "
            "agents bigint[], min_age int, max_age int, receives bool) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY bench_alloc FROM STDIN") as copy:
            for row in allocations:
                copy.write_row(row)
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        # Chronological order on disk, as a real table fills.
        counts["demandes"] = _insert(cursor, Demande, DEMANDE_COLUMNS, source, params, "ORDER BY created_at")
        counts["messages"] = _messages(cursor)
        counts["changements d'état"] = _state_changes(cursor)
        counts["pièces jointes"] = _insert(
            cursor,
            PieceJointe,
            {
                "demande_id": "m.demande_id",
                "message_id": "m.id",
                "direction": "'entrante'",
                "uploaded_by_id": "m.author_id",
                "uploaded_at": "m.created_at",
                "staged_token": "NULL::uuid",
                "file": "'pieces-jointes/' || to_char(m.created_at, 'YYYY/MM') || '/' || md5('piece:' || m.id) "
                "|| '.pdf'",
                "original_name": "'justificatifs.pdf'",
                "mime": "'application/pdf'",
                "size": "150000 + mod(m.id, 100000)",
                "sha256": "encode(sha256(('piece:' || m.id)::bytea), 'hex')",
            },
            "requests_app_message m JOIN requests_app_demande d ON d.id = m.demande_id",
            {},
            "WHERE d.kind = 'etude_dossier' AND m.side = 'partenaire'",
        )
    return counts


def _messages(cursor) -> int:
    """The technicien's first message (every request has one), the caisse's answers and a few internal notes."""
    texts = {"bodies": list(voc.FIRST_MESSAGES), "answers": list(voc.ANSWERS), "notes": list(voc.INTERNAL_NOTES)}
    branches = (
        ("filed_by_id", "'partenaire'", _pick_by_id("bodies"), "false", "created_at", "TRUE"),
        ("assigned_to_id", "'caisse'", _pick_by_id("answers"), "false", "state_changed_at",
         "state IN ('traitee', 'en_attente', 'cloturee') AND mod(id, 2) = 0"),
        ("assigned_to_id", "'caisse'", _pick_by_id("notes"), "true", "created_at + (state_changed_at - created_at) / 2",
         "state <> 'envoyee' AND mod(id, 20) = 1"),
    )  # fmt: skip
    total = 0
    for author, side, body, internal, at, where in branches:
        columns = {"demande_id": "id", "author_id": author, "side": side, "body": body, "internal": internal,
                   "created_at": at}  # fmt: skip
        total += _insert(cursor, Message, columns, "requests_app_demande", texts, f"WHERE {where}")
    return total


def _pick_by_id(name: str) -> str:
    return f"(%({name})s::text[])[1 + mod(id, cardinality(%({name})s::text[]))]"


def _state_changes(cursor) -> int:
    """D7: sent by the technicien; taken by an agent; then waiting, processed or closed (some closed at once)."""
    closed_at_once = "state = 'cloturee' AND mod(id, 2) = 0"
    branches = (
        ("''", "'envoyee'", "filed_by_id", "created_at", "TRUE"),
        ("'envoyee'", "'en_cours'", "assigned_to_id",
         "CASE WHEN state = 'en_cours' THEN state_changed_at ELSE created_at + (state_changed_at - created_at) / 3 END",
         f"state <> 'envoyee' AND NOT ({closed_at_once})"),
        (f"CASE WHEN {closed_at_once} THEN 'envoyee' ELSE 'en_cours' END", "state", "assigned_to_id",
         "state_changed_at", "state IN ('en_attente', 'traitee', 'cloturee')"),
    )  # fmt: skip
    total = 0
    for from_state, to_state, by, at, where in branches:
        columns = {"demande_id": "id", "old_value": from_state, "new_value": to_state, "by_id": by, "at": at}
        total += _insert(cursor, DemandeChange, columns, "requests_app_demande", {}, f"WHERE {where}")
    return total
