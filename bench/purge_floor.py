"""The floor of the purge (A15): the changes of the catalogue of personal data (core.personal_data), hand-written as
one set-based statement for every due account at once.

What the job does, the statement does too, on the same rows: the accounts anonymised, their history, devices,
tokens, passwords, sessions, permissions, read marks deleted; the copies of their identity erased (habilitation and
modification requests, incidents, CGU addresses, the journal's labels and addresses, tickets' browsers); every free
text of their requests, messages, attachments, tickets, of the habilitation and modification requests, incidents,
outbox and admin log searched for the words of every value that identified them (now, in their history, in the
requests about them) and their phones, and rewritten where found. Simpler than the job where SQL cannot follow it
(axes keeps keyed hashes: only the rows past the cool-off go; live sessions are not decoded): the floor does less,
never more. The bench prepares, runs it and rolls back, as for the job.
"""

from core.personal_data import NEUTRAL_TEXT, PHONE_RUN, SEPARATORS

# (table, alias, text columns, the rows searched: a condition on the alias, "due" being the accounts purged)
SCRUBBED = (
    ("requests_app_demande", "d", ("dossier_other", "reason", "appointment_place", "document_other"),
     "d.id IN (SELECT id FROM requests_app_demande WHERE filed_by_id IN (SELECT id FROM due) "
     "UNION SELECT id FROM requests_app_demande WHERE assigned_to_id IN (SELECT id FROM due))"),
    ("requests_app_message", "m", ("body",),
     "m.id IN (SELECT id FROM requests_app_message WHERE author_id IN (SELECT id FROM due) UNION "
     "SELECT x.id FROM requests_app_message x JOIN requests_app_demande y ON y.id = x.demande_id "
     "WHERE y.filed_by_id IN (SELECT id FROM due))"),
    ("requests_app_piecejointe", "p", ("original_name",),
     "p.id IN (SELECT id FROM requests_app_piecejointe WHERE uploaded_by_id IN (SELECT id FROM due) UNION "
     "SELECT x.id FROM requests_app_piecejointe x JOIN requests_app_demande y ON y.id = x.demande_id "
     "WHERE y.filed_by_id IN (SELECT id FROM due))"),
    ("requests_app_ticket", "t", ("description",), "t.reported_by_id IN (SELECT id FROM due)"),
    ("requests_app_ticketmessage", "tm", ("body",),
     "tm.id IN (SELECT id FROM requests_app_ticketmessage WHERE author_id IN (SELECT id FROM due) UNION "
     "SELECT x.id FROM requests_app_ticketmessage x JOIN requests_app_ticket y ON y.id = x.ticket_id "
     "WHERE y.reported_by_id IN (SELECT id FROM due))"),
    ("requests_app_ticketattachment", "ta", ("original_name",), "ta.uploaded_by_id IN (SELECT id FROM due)"),
    ("accounts_habilitationrequest", "hr", ("refusal_reason",), "TRUE"),
    ("accounts_gestionnairerequest", "gr", ("refusal_reason",), "TRUE"),
    ("accounts_accountincident", "ai", ("description", "notified_to", "notification_text"),
     "ai.account_id NOT IN (SELECT id FROM due)"),
    ("django_admin_log", "l", ("object_repr",), "TRUE"),
)  # fmt: skip


def _found(alias: str, column: str) -> str:
    """The same test as the job's (core.personal_data.Matcher.condition): a word of a value, or a phone's digits."""
    return (
        f"(EXISTS (SELECT 1 FROM regexp_split_to_table(lower({alias}.{column}), %(sep)s) AS w(word) "
        f"WHERE w.word = ANY(%(words)s::text[])) OR EXISTS (SELECT 1 FROM "
        f"regexp_matches({alias}.{column}, %(run)s, 'g') AS r(run) "
        f"WHERE regexp_replace(r.run[1], '[^0-9]', '', 'g') = ANY(%(phones)s::text[])))"
    )


def _scrub(table: str, alias: str, columns: tuple[str, ...], scope: str) -> str:
    sets = ", ".join(f"{c} = regexp_replace({c}, %(pattern)s, %(neutral)s, 'gi')" for c in columns)
    found = " OR ".join(_found(alias, c) for c in columns)
    return f"UPDATE {table} {alias} SET {sets} WHERE {scope} AND ({found})"  # noqa: S608


def _delete(table: str, where: str) -> str:
    return f"DELETE FROM {table} WHERE {where}"  # noqa: S608


OF_DUE = "user_id IN (SELECT id FROM due)"

STATEMENTS = {
    # Third-party rows, then the portal's account rows.
    "static_tokens": _delete(
        "otp_static_statictoken", f"device_id IN (SELECT id FROM otp_static_staticdevice WHERE {OF_DUE})"
    ),
    "static": _delete("otp_static_staticdevice", OF_DUE),
    "totp": _delete("otp_totp_totpdevice", OF_DUE),
    "groups": _delete("accounts_user_groups", OF_DUE),
    "permissions": _delete("accounts_user_user_permissions", OF_DUE),
    "object_permissions": _delete("guardian_userobjectpermission", OF_DUE),
    "caisse_permissions": _delete("conventions_caisseuserobjectpermission", OF_DUE),
    "sessions": _delete("django_session", "expire_date <= now()"),
    "axes_expirations": _delete(
        "axes_accessattemptexpiration",
        "access_attempt_id IN (SELECT id FROM axes_accessattempt WHERE attempt_time < now() - %(cooloff)s)",
    ),
    "axes_attempts": _delete("axes_accessattempt", "attempt_time < now() - %(cooloff)s"),
    "axes_log": _delete("axes_accesslog", "attempt_time < now() - %(cooloff)s"),
    "axes_failures": _delete("axes_accessfailurelog", "attempt_time < now() - %(cooloff)s"),
    "passwords": _delete("accounts_passwordhistory", OF_DUE),
    "tokens": _delete("accounts_accounttoken", OF_DUE),
    "history": _delete("accounts_historicaluser", "id IN (SELECT id FROM due)"),
    "lectures": _delete("requests_app_demandelecture", OF_DUE),
    "outbox": _delete(
        "portal_outboxemail o",
        " OR ".join(_found("o", c) for c in ("recipients", "subject", "body")),
    ),
    # The copies of their identity.
    "habilitations": "UPDATE accounts_habilitationrequest SET civilite = '', last_name = '', first_name = '', "
    "job_title = '', phone = '', email = '' WHERE account_id IN (SELECT id FROM due) OR lower(email) IN "
    "(SELECT lower(email) FROM known WHERE email <> '')",
    "modifications": "UPDATE accounts_gestionnairerequest SET new_last_name = '', new_job_title = '', new_phone = '', "
    "new_email = '' WHERE target_id IN (SELECT id FROM due)",
    "incidents": "UPDATE accounts_accountincident SET description = '', notified_to = '', notification_text = '' "
    "WHERE account_id IN (SELECT id FROM due)",
    "cgu": f"UPDATE accounts_cguacceptance SET ip = NULL WHERE {OF_DUE}",
    "journal": "UPDATE portal_journalentry SET ip = NULL, target_label = CASE WHEN target_type = 'accounts.user' "
    "AND target_id IN (SELECT id::text FROM due) THEN '' ELSE target_label END WHERE (target_type = 'accounts.user' "
    "AND target_id IN (SELECT id::text FROM due)) OR (actor_id IN (SELECT id FROM due) AND ip IS NOT NULL)",
    "browsers": "UPDATE requests_app_ticket SET user_agent = '' WHERE reported_by_id IN (SELECT id FROM due)",
    # Free texts.
    **{f"scrub_{table}": _scrub(table, alias, columns, scope) for table, alias, columns, scope in SCRUBBED},
}

DUE = """
    SELECT id, username, email, first_name, last_name, phone FROM accounts_user WHERE state = 'inactive'
        AND (inactivated_at AT TIME ZONE 'Europe/Paris') + interval '6 months' <= (now() AT TIME ZONE 'Europe/Paris')
"""

# First statement: every value that identified the due accounts, as the words, phones and pattern of the second
# (given to it as constants, as the job gives its own: PostgreSQL hashes a constant list for `= ANY`, not a
# subquery's array).
VALUES_SQL = f"""
WITH due AS ({DUE}), known AS (
    SELECT username, email, first_name, last_name, phone FROM due
    UNION SELECT h.username, h.email, h.first_name, h.last_name, h.phone FROM accounts_historicaluser h
        WHERE h.id IN (SELECT id FROM due)
    UNION SELECT '', r.email, r.first_name, r.last_name, r.phone FROM accounts_habilitationrequest r
        WHERE r.account_id IN (SELECT id FROM due)
    UNION SELECT '', g.new_email, '', g.new_last_name, g.new_phone FROM accounts_gestionnairerequest g
        WHERE g.target_id IN (SELECT id FROM due)
)
SELECT
    (SELECT coalesce(array_agg(DISTINCT w.word), '{{}}') FROM known,
        regexp_split_to_table(lower(username || ' ' || split_part(email, '@', 1) || ' ' || first_name || ' ' ||
                                    last_name), %(sep)s) AS w(word)
     WHERE length(w.word) >= 3),
    (SELECT coalesce(array_agg(DISTINCT regexp_replace(phone, '[^0-9]', '', 'g')), '{{}}') FROM known
     WHERE phone <> ''),
    (SELECT coalesce('(' || string_agg(DISTINCT regexp_replace(v, '([.^$*+?()\\[\\]{{}}|\\\\-])', '\\\\\\1', 'g'),
                                       '|') || ')', '')
     FROM known, unnest(ARRAY[email, username, phone, first_name || ' ' || last_name,
                              last_name || ' ' || first_name]) AS v
     WHERE length(v) >= 3)
"""

PURGE_FLOOR_SQL = f"""
WITH due AS ({DUE} FOR UPDATE SKIP LOCKED
), known AS (
    SELECT email FROM due
    UNION SELECT r.email FROM accounts_habilitationrequest r WHERE r.account_id IN (SELECT id FROM due)
), {", ".join(f"{name} AS ({sql})" for name, sql in STATEMENTS.items())},
erased AS (
    UPDATE accounts_user a SET username = 'compte-supprime-' || a.id, civilite = '', last_name = '',
        first_name = '', job_title = '', phone = '', email = '', inactivation_comment = '',
        password = '!' || md5(random()::text), state = 'supprime', state_changed_at = now()
    FROM due WHERE a.id = due.id RETURNING a.id
), j AS (
    INSERT INTO portal_journalentry (at, action, target_type, target_id, target_label, details)
    SELECT now(), 'account_purged', 'accounts.user', id::text, 'Compte n° ' || id, '{{}}'::jsonb FROM erased
)
SELECT count(*) FROM erased
"""


def run(execute, cooloff) -> int:
    """Both statements; `execute(sql, params)` returns the rows."""
    base = {"sep": SEPARATORS, "run": PHONE_RUN, "neutral": NEUTRAL_TEXT, "cooloff": cooloff}
    ((words, phones, pattern),) = execute(VALUES_SQL, base)
    return execute(PURGE_FLOOR_SQL, {**base, "words": words, "phones": phones, "pattern": pattern})[0][0]
