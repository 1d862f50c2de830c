"""The access matrix, generated from the URL configuration (A1, A13, A17, C7, D8, P4; ASVS V4).

Every URL of the resolver — portal pages and the back-office, named or not — is requested by every profile with
GET, POST and DELETE; the answer must be the one written in EXPECTED (GET), POST_EXPECTED and DELETE_EXPECTED
(EXPECTED with reviewed overrides). A refused answer must write nothing, and no answer out of the profile's reach
may show the insured person of the world's request. A URL added without a row in EXPECTED fails
`test_every_url_of_the_resolver_has_a_row`, and a row left behind by a removed URL fails it too.

The objects in the URLs belong to one structure ("la structure") under convention with one caisse ("la caisse"):
its request and attachment, its accounts, its conventions, the caisse's notice and document… Each profile is
signed in through the second factor (`verified_login`); the suspended structure and the inactivated account
are signed in first, then suspended or inactivated, and must lose every access at their next request (A13);
the two "sans_2fa" profiles gave their password but not their second factor yet (A17).

Answers are written as the status code, or "→name" for a redirect to the page of that URL name (the query
string is not compared): "→login" is the portal's sign-in page, "→admin_login" the back-office's entrance
(which sends on to the portal's sign-in and second step).
"""

from copy import deepcopy
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.admin import site as admin_site
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts import cgu as cgu_service
from accounts import habilitations
from accounts import services as account_services
from accounts.models import (
    CGU,
    HabilitationRequest,
    HabilitationReview,
    InactivationReason,
    IncidentKind,
)
from accounts.permissions import sync_agent_group
from conventions import services as convention_services
from core import audit, uploads
from core.models import Action, HealthTerm
from portal import content
from portal.models import DocumentCategory, DocumentPartenaire, MaintenanceNotice
from requests_app import assistance
from requests_app import services as demande_services
from requests_app.models import (
    DemandeKind,
    Direction,
    InformationPartenaire,
    PieceJointe,
    ReponseType,
    TicketAttachment,
    TicketCategory,
)
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import CaisseFactory, DomaineEmailFactory, partner_with_access

pytestmark = pytest.mark.django_db

# --- Profiles -----------------------------------------------------------------------------------------------

PROFILES = (
    "anonyme",
    "technicien",  # technicien of the structure
    "gestionnaire",  # gestionnaire of the structure
    "technicien_autre_structure",  # technicien of another structure, under convention with the same caisse
    "gestionnaire_autre_structure",  # gestionnaire of that other structure
    "agent",  # agent of the caisse the structure has its convention with
    "agent_autre_caisse",  # agent of another caisse
    "administrateur",  # national administrator (every caisse)
    "structure_suspendue",  # technicien of a structure suspended after signing in (A13)
    "compte_inactive",  # technicien of the structure, inactivated after signing in (A13)
    "technicien_sans_2fa",  # technicien of the structure signed in with its password only (A17)
    "agent_sans_2fa",  # agent of the caisse signed in with its password only (A17)
)

# --- Expected answers ---------------------------------------------------------------------------------------

LOGIN = "→login"  # the portal's sign-in page
ADMIN_LOGIN = "→admin_login"  # the back-office's entrance: sign-in, then second factor, staff only
VERIFY = "→two_factor_verify"  # the second factor, before anything else (A17)
HOME = "→home"
ADMIN_INDEX = "→admin:index"
PASSWORD_CHANGE = "→password_change"  # the back-office changes passwords on the portal's page
HEALTH = frozenset({200, 503})  # /healthz: 200 when PostgreSQL, Redis and clamd answer, 503 naming the one down

PORTAL_COLUMNS = (
    "technicien",
    "gestionnaire",
    "technicien_autre_structure",
    "gestionnaire_autre_structure",
    "agent",
    "agent_autre_caisse",
    "administrateur",
)
SIGNED_OUT = ("anonyme", "structure_suspendue", "compte_inactive")
PASSWORD_ONLY = ("technicien_sans_2fa", "agent_sans_2fa")


def everyone(expected):
    return dict.fromkeys(PROFILES, expected)


def portal(*answers, signed_out=LOGIN, password_only=VERIFY):
    """A page behind the sign-in, answers in PORTAL_COLUMNS order. Signed out — anonymous, and the suspended
    structure and the inactivated account whose session no longer counts — goes to the sign-in page; a
    password without its second factor goes to the verification (AccountGateMiddleware)."""
    assert len(answers) == len(PORTAL_COLUMNS)
    return {
        **dict.fromkeys(SIGNED_OUT, signed_out),
        **dict.fromkeys(PASSWORD_ONLY, password_only),
        **dict(zip(PORTAL_COLUMNS, answers, strict=True)),
    }


def back_office(agent, agent_autre_caisse, administrateur, *, others=ADMIN_LOGIN, password_only=VERIFY):
    """A back-office page: only staff with a verified second factor get in (OTPAdminSite.has_permission); the
    others are sent to its entrance. An agent reaching another caisse's object gets a 404 (CaisseScopedAdmin)."""
    row = {**everyone(others), **dict.fromkeys(PASSWORD_ONLY, password_only)}
    return {**row, "agent": agent, "agent_autre_caisse": agent_autre_caisse, "administrateur": administrateur}


def admin_shortcut(model):
    """The admin's unnamed /admin/<app>/<model>/<id>/ → its change page (which then applies the scoping). With no
    URL name, the account gate does not see it: the admin's own second-factor check sends to the entrance."""
    change = f"→admin:{model}_change"
    return back_office(change, change, change, password_only=ADMIN_LOGIN)


# Columns: portal(technicien, gestionnaire, technicien_autre_structure, gestionnaire_autre_structure, agent,
#                 agent_autre_caisse, administrateur); back_office(agent, agent_autre_caisse, administrateur).
EXPECTED: dict[str, dict] = {
    "accounts_export": portal(403, 200, 403, 200, 403, 403, 403),
    "accounts_list": portal(403, 200, 403, 200, 403, 403, 403),
    "activate": everyone(410),
    "activate_renew": everyone(200),
    "admin/(?P<url>.*)$": back_office(404, 404, 404, password_only=ADMIN_LOGIN),
    "admin/accounts/accountincident/<path:object_id>/": admin_shortcut("accounts_accountincident"),
    "admin/accounts/cgu/<path:object_id>/": admin_shortcut("accounts_cgu"),
    "admin/accounts/gestionnairerequest/<path:object_id>/": admin_shortcut("accounts_gestionnairerequest"),
    "admin/accounts/habilitationrequest/<path:object_id>/": admin_shortcut("accounts_habilitationrequest"),
    "admin/accounts/habilitationreview/<path:object_id>/": admin_shortcut("accounts_habilitationreview"),
    "admin/accounts/user/<path:object_id>/": admin_shortcut("accounts_user"),
    "admin/auth/group/<path:object_id>/": admin_shortcut("auth_group"),
    "admin/conventions/caisse/<path:object_id>/": admin_shortcut("conventions_caisse"),
    "admin/conventions/conventionmetier/<path:object_id>/": admin_shortcut("conventions_conventionmetier"),
    "admin/conventions/conventionutilisation/<path:object_id>/": admin_shortcut("conventions_conventionutilisation"),
    "admin/conventions/partenaire/<path:object_id>/": admin_shortcut("conventions_partenaire"),
    "admin/portal/documentpartenaire/<path:object_id>/": admin_shortcut("portal_documentpartenaire"),
    "admin/core/journalentry/<path:object_id>/": admin_shortcut("core_journalentry"),
    "admin/portal/maintenancenotice/<path:object_id>/": admin_shortcut("portal_maintenancenotice"),
    "admin/requests_app/demande/<path:object_id>/": admin_shortcut("requests_app_demande"),
    "admin/requests_app/reponsetype/<path:object_id>/": admin_shortcut("requests_app_reponsetype"),
    "admin/requests_app/ticket/<path:object_id>/": admin_shortcut("requests_app_ticket"),
    "admin/requests_app/informationpartenaire/<path:object_id>/": admin_shortcut("requests_app_informationpartenaire"),
    "admin/core/healthterm/<path:object_id>/": admin_shortcut("core_healthterm"),
    "admin:accounts_accountincident_action": back_office(200, 404, 200),
    "admin:accounts_accountincident_add": back_office(403, 403, 403),
    "admin:accounts_accountincident_change": back_office(200, 404, 200),
    "admin:accounts_accountincident_changelist": back_office(200, 200, 200),
    "admin:accounts_accountincident_delete": back_office(403, 403, 403),
    "admin:accounts_accountincident_history": back_office(200, 404, 200),
    "admin:accounts_cgu_add": back_office(403, 403, 200),
    "admin:accounts_cgu_change": back_office(403, 403, 200),
    "admin:accounts_cgu_changelist": back_office(403, 403, 200),
    "admin:accounts_cgu_delete": back_office(403, 403, 403),
    "admin:accounts_cgu_history": back_office(403, 403, 200),
    "admin:accounts_cgu_simple_history": back_office(403, 403, 200),
    "admin:accounts_gestionnairerequest_action": back_office(200, 404, 200),
    "admin:accounts_gestionnairerequest_add": back_office(403, 403, 403),
    "admin:accounts_gestionnairerequest_change": back_office(200, 404, 200),
    "admin:accounts_gestionnairerequest_changelist": back_office(200, 200, 200),
    "admin:accounts_gestionnairerequest_delete": back_office(403, 403, 403),
    "admin:accounts_gestionnairerequest_history": back_office(200, 404, 200),
    "admin:accounts_habilitationrequest_action": back_office(200, 404, 200),
    "admin:accounts_habilitationrequest_add": back_office(200, 200, 200),
    "admin:accounts_habilitationrequest_change": back_office(200, 404, 200),
    "admin:accounts_habilitationrequest_changelist": back_office(200, 200, 200),
    "admin:accounts_habilitationrequest_delete": back_office(403, 403, 403),
    "admin:accounts_habilitationrequest_history": back_office(200, 404, 200),
    "admin:accounts_habilitationreview_add": back_office(200, 200, 200),
    "admin:accounts_habilitationreview_change": back_office(200, 404, 200),
    "admin:accounts_habilitationreview_changelist": back_office(200, 200, 200),
    "admin:accounts_habilitationreview_delete": back_office(403, 403, 403),
    "admin:accounts_habilitationreview_history": back_office(200, 404, 200),
    "admin:accounts_user_action": back_office(200, 404, 200),
    "admin:accounts_user_add": back_office(403, 403, 403),
    "admin:accounts_user_change": back_office(200, 404, 200),
    "admin:accounts_user_changelist": back_office(200, 200, 200),
    "admin:accounts_user_delete": back_office(403, 403, 403),
    "admin:accounts_user_history": back_office(200, 404, 200),
    "admin:accounts_user_simple_history": back_office(200, 404, 200),
    "admin:app_list": back_office(200, 200, 200),
    "admin:auth_group_add": back_office(403, 403, 200),
    "admin:auth_group_change": back_office(403, 403, 200),
    "admin:auth_group_changelist": back_office(403, 403, 200),
    "admin:auth_group_delete": back_office(403, 403, 200),
    "admin:auth_group_history": back_office(403, 403, 200),
    "admin:autocomplete": back_office(200, 200, 200),
    "admin:consistency": back_office(403, 403, 200),  # the national administrator's, across every caisse
    "admin:conventions_caisse_add": back_office(403, 403, 200),
    "admin:conventions_caisse_change": back_office(200, 404, 200),
    "admin:conventions_caisse_changelist": back_office(200, 200, 200),
    "admin:conventions_caisse_delete": back_office(403, 403, 403),
    "admin:conventions_caisse_history": back_office(200, 404, 200),
    "admin:conventions_caisse_simple_history": back_office(200, 404, 200),
    "admin:conventions_conventionmetier_action": back_office(200, 404, 200),
    "admin:conventions_conventionmetier_add": back_office(200, 200, 200),
    "admin:conventions_conventionmetier_change": back_office(200, 404, 200),
    "admin:conventions_conventionmetier_changelist": back_office(200, 200, 200),
    "admin:conventions_conventionmetier_delete": back_office(403, 403, 403),
    "admin:conventions_conventionmetier_history": back_office(200, 404, 200),
    "admin:conventions_conventionmetier_simple_history": back_office(200, 404, 200),
    "admin:conventions_conventionutilisation_action": back_office(200, 404, 200),
    "admin:conventions_conventionutilisation_add": back_office(200, 200, 200),
    "admin:conventions_conventionutilisation_change": back_office(200, 404, 200),
    "admin:conventions_conventionutilisation_changelist": back_office(200, 200, 200),
    "admin:conventions_conventionutilisation_delete": back_office(403, 403, 403),
    "admin:conventions_conventionutilisation_history": back_office(200, 404, 200),
    "admin:conventions_conventionutilisation_simple_history": back_office(200, 404, 200),
    "admin:conventions_partenaire_action": back_office(200, 404, 200),
    "admin:conventions_partenaire_add": back_office(200, 200, 200),
    "admin:conventions_partenaire_change": back_office(200, 404, 200),
    "admin:conventions_partenaire_changelist": back_office(200, 200, 200),
    "admin:conventions_partenaire_delete": back_office(403, 403, 403),
    "admin:conventions_partenaire_history": back_office(200, 404, 200),
    "admin:conventions_partenaire_simple_history": back_office(200, 404, 200),
    "admin:incident_mode": back_office(403, 403, 200),  # P8: the national administrator's switch
    "admin:index": back_office(200, 200, 200),
    "admin:jsi18n": back_office(200, 200, 200),
    "admin:login": portal(HOME, HOME, HOME, HOME, ADMIN_INDEX, ADMIN_INDEX, ADMIN_INDEX),
    "admin:logout": back_office(405, 405, 405, others=ADMIN_INDEX, password_only=ADMIN_INDEX),
    "admin:password_change": back_office(PASSWORD_CHANGE, PASSWORD_CHANGE, PASSWORD_CHANGE),
    "admin:password_change_done": back_office(200, 200, 200),
    "admin:portal_documentpartenaire_add": back_office(200, 200, 200),
    "admin:portal_documentpartenaire_change": back_office(200, 404, 200),
    "admin:portal_documentpartenaire_changelist": back_office(200, 200, 200),
    "admin:portal_documentpartenaire_delete": back_office(200, 404, 200),  # a caisse removes its own documents
    "admin:portal_documentpartenaire_history": back_office(200, 404, 200),
    "admin:core_journalentry_add": back_office(403, 403, 403),
    "admin:core_journalentry_change": back_office(403, 403, 200),
    "admin:core_journalentry_changelist": back_office(403, 403, 200),
    "admin:core_journalentry_delete": back_office(403, 403, 403),
    # The journal is the national administrator's: agents read no entry (403, and "no such object" here).
    "admin:core_journalentry_history": back_office(ADMIN_INDEX, ADMIN_INDEX, 200),
    "admin:portal_maintenancenotice_add": back_office(200, 200, 200),
    "admin:portal_maintenancenotice_change": back_office(200, 404, 200),
    "admin:portal_maintenancenotice_changelist": back_office(200, 200, 200),
    "admin:portal_maintenancenotice_delete": back_office(200, 404, 200),
    "admin:portal_maintenancenotice_history": back_office(200, 404, 200),
    # Canned replies: a caisse's own are its agents' (another caisse's: 404); the list shows the national ones too.
    "admin:requests_app_reponsetype_add": back_office(200, 200, 200),
    "admin:requests_app_reponsetype_change": back_office(200, 404, 200),
    "admin:requests_app_reponsetype_changelist": back_office(200, 200, 200),
    "admin:requests_app_reponsetype_delete": back_office(200, 404, 200),
    "admin:requests_app_reponsetype_history": back_office(200, 404, 200),
    # CNIL right of access: every agent reaches the form; the export keeps to the requests it may see.
    "admin:requests_app_demande_access_report": back_office(200, 200, 200),
    "admin:requests_app_demande_action": back_office(200, 404, 200),
    "admin:requests_app_demande_add": back_office(403, 403, 403),
    "admin:requests_app_demande_change": back_office(200, 404, 200),
    "admin:requests_app_demande_changelist": back_office(200, 200, 200),
    "admin:requests_app_demande_delete": back_office(403, 403, 403),
    "admin:requests_app_demande_history": back_office(200, 404, 200),
    # P7: problems reported by partners (never added nor deleted in the back-office) and the caisse's
    # information to its partners (published, then read-only).
    "admin:requests_app_ticket_action": back_office(200, 404, 200),
    "admin:requests_app_ticket_add": back_office(403, 403, 403),
    "admin:requests_app_ticket_change": back_office(200, 404, 200),
    "admin:requests_app_ticket_changelist": back_office(200, 200, 200),
    "admin:requests_app_ticket_delete": back_office(403, 403, 403),
    "admin:requests_app_ticket_history": back_office(200, 404, 200),
    "admin:requests_app_informationpartenaire_add": back_office(200, 200, 200),
    "admin:requests_app_informationpartenaire_change": back_office(200, 404, 200),
    "admin:requests_app_informationpartenaire_changelist": back_office(200, 200, 200),
    "admin:requests_app_informationpartenaire_delete": back_office(403, 403, 403),
    "admin:requests_app_informationpartenaire_history": back_office(200, 404, 200),
    # The health lexicon of the free-text guard (D4) is one for every caisse, kept by their agents.
    "admin:core_healthterm_add": back_office(200, 200, 200),
    "admin:core_healthterm_change": back_office(200, 200, 200),
    "admin:core_healthterm_changelist": back_office(200, 200, 200),
    "admin:core_healthterm_delete": back_office(403, 403, 200),
    "admin:core_healthterm_history": back_office(200, 200, 200),
    "admin:view_on_site": back_office(404, 404, 404),  # no model has a public page
    "admin_login": portal(HOME, HOME, HOME, HOME, ADMIN_INDEX, ADMIN_INDEX, ADMIN_INDEX),
    "cgu": portal(200, 200, 200, 200, 200, 200, 200),
    "contacts": portal(200, 200, 200, 200, 200, 200, 200),
    "demande_choose": portal(200, 200, 200, 200, 403, 403, 403),
    "demande_detail": portal(200, 200, 404, 404, 403, 403, 403),
    "demande_new": portal(200, 403, 200, 403, 403, 403, 403),  # A1: gestionnaires do not file requests
    "demande_reply": portal(405, 405, 405, 405, 403, 403, 403),  # POST only (another structure: 404 on POST)
    "demandes": portal(200, 200, 200, 200, 403, 403, 403),
    "demandes_export": portal(200, 200, 200, 200, 403, 403, 403),
    "document_download": portal(200, 200, 200, 200, 200, 404, 200),  # the caisse's document: its partners, its agents
    "documentation": portal(200, 200, 200, 200, 200, 200, 200),
    "gestionnaire_inactivation": portal(403, 200, 403, 404, 403, 403, 403),
    "gestionnaire_modification": portal(403, 200, 403, 404, 403, 403, 403),
    "habilitation_request": portal(403, 200, 403, 200, 403, 403, 403),
    "healthz": everyone(HEALTH),
    "home": portal(200, 200, 200, 200, 200, 200, 200),
    "incident_report": portal(200, 200, 200, 200, 403, 403, 403),
    "information_acknowledge": portal(405, 405, 405, 405, 403, 403, 403),  # POST only
    # P7: a structure's reported problems (another structure's: 404); the screenshot also for the caisse's agents.
    "ticket_attachment": portal(200, 200, 404, 404, 200, 404, 200),
    "ticket_detail": portal(200, 200, 404, 404, 403, 403, 403),
    "ticket_reply": portal(405, 405, 405, 405, 403, 403, 403),  # POST only
    "ticket_report": portal(200, 200, 200, 200, 403, 403, 403),
    "tickets": portal(200, 200, 200, 200, 403, 403, 403),
    "login": portal(HOME, HOME, HOME, HOME, HOME, HOME, HOME, signed_out=200),
    "logout": everyone(405),
    "password_change": portal(200, 200, 200, 200, 200, 200, 200),
    "password_expired": portal(200, 200, 200, 200, 200, 200, 200),
    "password_reset": everyone(200),
    "password_reset_confirm": everyone(410),
    "piece_download": portal(200, 200, 404, 404, 200, 404, 200),
    "resend_invitation": portal(403, 405, 403, 405, 403, 403, 403),
    "review_attest": portal(403, 405, 403, 405, 403, 403, 403),
    "technicien_create": portal(403, 200, 403, 200, 403, 403, 403),
    "technicien_inactivate": portal(403, 200, 403, 404, 403, 403, 403),
    "technicien_reset_two_factor": portal(403, 405, 403, 405, 403, 403, 403),
    "two_factor_link": portal(410, 410, 410, 410, 410, 410, 410, password_only=410),  # the link unknown: 410
    "two_factor_backup_codes": portal(200, 200, 200, 200, 200, 200, 200, password_only=200),
    "two_factor_setup": portal(VERIFY, VERIFY, VERIFY, VERIFY, VERIFY, VERIFY, VERIFY),
    "two_factor_verify": portal(HOME, HOME, HOME, HOME, HOME, HOME, HOME, password_only=200),
}

# --- POST --------------------------------------------------------------------------------------------------

# Every URL also gets a POST with an empty body (the test client skips the CSRF check: what is tested is the
# view's own). The answer is the GET's, but for the rows below: each one read in its view, with why it differs.
# What decides access must not depend on the method nor the body: another structure's request or account is a
# 404 (D8, A12), another caisse's object a 404 (CaisseScopedAdmin), as on GET.
ACCOUNTS = "→accounts_list"


def admin_change(model):
    return f"→admin:{model}_change"


def admin_list(model):
    return f"→admin:{model}_changelist"


POST_OVERRIDES: dict[str, dict] = {
    # --- Portal. The reply is POST only (405 to GET), sent with its form's hidden token alone (POST_BODIES): the
    # structure's technicien gets the request's page back, the empty message refused (200). Its gestionnaire
    # reads the thread but writes nothing in it (A1, can_reply): 403, as on demande_new. Another structure:
    # 404, the request does not exist for it (D8).
    "demande_reply": portal(200, 403, 404, 404, 403, 403, 403),
    # The gestionnaire's buttons, POST only (405 to GET), nothing to fill in: done (or refused with a message),
    # back to the accounts page (A7, A16, A17); another structure's account or review: 404, as on its pages.
    "resend_invitation": portal(403, ACCOUNTS, 403, 404, 403, 403, 403),
    "review_attest": portal(403, ACCOUNTS, 403, 404, 403, 403, 403),
    "technicien_reset_two_factor": portal(403, ACCOUNTS, 403, 404, 403, 403, 403),
    # Signing out is POST only, open to any session, even one without its second factor (its success is the
    # sign-in page: see SIGN_OUT).
    "logout": everyone(LOGIN),
    # Leaving the backup codes page (the codes leave the session): on to the home page.
    "two_factor_backup_codes": portal(HOME, HOME, HOME, HOME, HOME, HOME, HOME, password_only=HOME),
    # --- Back-office. Signing out of it is POST only (Django's LogoutView); the others are sent to its index.
    "admin:logout": back_office(LOGIN, LOGIN, LOGIN, others=ADMIN_INDEX, password_only=ADMIN_INDEX),
    # P7: the reply, empty, is refused on the page (200) for the structure's users; another structure's ticket is a
    # 404. The information is addressed to the structure: acknowledged by its users (back home), refused (403)
    # to another structure.
    "ticket_reply": portal(200, 200, 404, 404, 403, 403, 403),
    "information_acknowledge": portal(HOME, HOME, 403, 403, 403, 403, 403),
    # Confirmation of "prendre en charge": done, back to the ticket; saving the read-only change page: unchanged,
    # back to the list. The information is read-only once published: agents may not change it (403, checked
    # before the object is looked up); the national administrator's empty post lacks its inline's management
    # form and gets the page back (200), nothing saved.
    "admin:requests_app_ticket_action": back_office(
        admin_change("requests_app_ticket"), 404, admin_change("requests_app_ticket")
    ),
    "admin:requests_app_ticket_change": back_office(
        admin_list("requests_app_ticket"), 404, admin_list("requests_app_ticket")
    ),
    "admin:requests_app_informationpartenaire_change": back_office(403, 403, 200),
    # P8: the switch, POSTed empty, turns the incident mode on and comes back to its page.
    "admin:incident_mode": back_office(403, 403, "→admin:incident_mode"),
    # Read-only views (class-based, GET only): 405 once in.
    "admin:autocomplete": back_office(405, 405, 405),
    "admin:jsi18n": back_office(405, 405, 405),
    "admin:password_change_done": back_office(405, 405, 405),
    # A past version is never restored (HistoryAdmin.history_form_view): 403 once the object is visible, and
    # another caisse's object stays a 404.
    "admin:accounts_cgu_simple_history": back_office(403, 403, 403),
    "admin:accounts_user_simple_history": back_office(403, 404, 403),
    "admin:conventions_caisse_simple_history": back_office(403, 404, 403),
    "admin:conventions_conventionmetier_simple_history": back_office(403, 404, 403),
    "admin:conventions_conventionutilisation_simple_history": back_office(403, 404, 403),
    "admin:conventions_partenaire_simple_history": back_office(403, 404, 403),
    # Change pages whose fields are all read-only (the rows come from the portal and change only through the
    # object's actions): the empty form is valid, the object saved unchanged, back to the list. The agent of
    # another caisse does not find the object (404), as on GET.
    "admin:accounts_accountincident_change": back_office(
        admin_list("accounts_accountincident"), 404, admin_list("accounts_accountincident")
    ),
    "admin:accounts_gestionnairerequest_change": back_office(
        admin_list("accounts_gestionnairerequest"), 404, admin_list("accounts_gestionnairerequest")
    ),
    "admin:accounts_habilitationrequest_change": back_office(
        admin_list("accounts_habilitationrequest"), 404, admin_list("accounts_habilitationrequest")
    ),
    "admin:accounts_user_change": back_office(admin_list("accounts_user"), 404, admin_list("accounts_user")),
    # Accepted CGU: its text is what was accepted, every field read-only (CGUAdmin); the national
    # administrator's, as on GET.
    "admin:accounts_cgu_change": back_office(403, 403, admin_list("accounts_cgu")),
    # A review is asked by the caisse and attested by the partner (A16): agents may add one, then only read it
    # (AGENT_PERMISSIONS), so their POST is a 403 — Django checks the right to change before looking the object
    # up, which answers the same for any review, another caisse's or none (nothing learnt). The national
    # administrator's is saved as is.
    "admin:accounts_habilitationreview_change": back_office(403, 403, admin_list("accounts_habilitationreview")),
    # The journal is read-only for everyone, the national administrator included (P4): saving it is a 403.
    "admin:core_journalentry_change": back_office(403, 403, 403),
    # Object actions with nothing to fill in (ConfirmForm): the POST is the confirmation, the action runs and
    # the page goes back to the object; the caisse's agent and the national administrator may (A5, A10, A13),
    # the agent of another caisse does not find the object (404).
    "admin:accounts_accountincident_action": back_office(
        admin_change("accounts_accountincident"), 404, admin_change("accounts_accountincident")
    ),
    "admin:accounts_gestionnairerequest_action": back_office(
        admin_change("accounts_gestionnairerequest"), 404, admin_change("accounts_gestionnairerequest")
    ),
    "admin:accounts_habilitationrequest_action": back_office(
        admin_change("accounts_habilitationrequest"), 404, admin_change("accounts_habilitationrequest")
    ),
}
POST_EXPECTED = {**EXPECTED, **POST_OVERRIDES}
# The reply checks its form's hidden token before anything else (403 "Formulaire incomplet" without it, for
# everyone who reaches the request): the matrix posts the token alone, so that the profile decides the answer.
POST_BODIES = {"demande_reply": {"form_token": "00000000-0000-4000-8000-0000000000cd"}}

# --- DELETE ------------------------------------------------------------------------------------------------

# Every view of the portal branches on `request.method == "POST"` (or is POST only), and so does Django's admin:
# DELETE reaches the GET branch and must answer as GET — same scoping, nothing written on a refusal, no insured
# shown out of reach — where a generic DeleteView would delete at once. But for these rows, from Django's
# class-based views and the history admin. (A one-off sweep of PUT, HEAD and OPTIONS found these rows again,
# LoginView running its POST on PUT and the LogoutViews answering OPTIONS with an empty 200, and neither a write
# nor the insured: not sent on each run, to keep its time.)
DELETE_OVERRIDES: dict[str, dict] = {
    # JSON and template views with no handler but GET (AutocompleteJsonView, JavaScriptCatalog,
    # PasswordChangeDoneView): 405 once in the back-office.
    "admin:autocomplete": back_office(405, 405, 405),
    "admin:jsi18n": back_office(405, 405, 405),
    "admin:password_change_done": back_office(405, 405, 405),
    # LoginView has no DELETE: 405 to whoever is signed out (the signed-in are sent home first, as on GET).
    "login": portal(HOME, HOME, HOME, HOME, HOME, HOME, HOME, signed_out=405),
    # A past version is never restored: HistoryAdmin refuses any method but GET, as POST.
    **{key: row for key, row in POST_OVERRIDES.items() if key.endswith("_simple_history")},
}
DELETE_EXPECTED = {**EXPECTED, **DELETE_OVERRIDES}

# Cells that show a real access-control bug, reported and left to the application's owners: the test is
# expected to fail on exactly these cells (strict: it fails when one of them starts answering as expected, so
# that the entry is removed with the fix).
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}  # (method, URL key, profile): why


# --- The URLs of the resolver -------------------------------------------------------------------------------


def resolver_urls():
    """{key: (route, pattern)} for every URL pattern, the admin's included. The key is the URL name (with its
    namespace), or the route itself for an unnamed pattern (the admin's object shortcut and catch-all)."""

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = ":".join(part for part in (namespace, pattern.namespace) if part)
                yield from walk(pattern.url_patterns, route, inner)
            elif pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), (route, pattern)
            else:
                yield route, (route, pattern)

    found = {}
    for key, value in walk(get_resolver().url_patterns, "", ""):
        found.setdefault(key, value)
    return found


ADMIN_MODELS = {f"{m._meta.app_label}_{m._meta.model_name}": m for m in admin_site._registry}
ADMIN_VIEWS = ("changelist", "add", "change", "delete", "history", "action", "simple_history")
# Object actions opened by GET (the form, nothing done): one available on each object of the world.
ACTION_SLUGS = {
    "accounts_user": "inactiver",
    "accounts_accountincident": "traiter",
    "accounts_gestionnairerequest": "appliquer",
    "accounts_habilitationrequest": "creer-compte",
    "conventions_conventionmetier": "resilier",
    "conventions_conventionutilisation": "mise-en-demeure",
    "conventions_partenaire": "suspendre",
    "requests_app_demande": "repondre",
    "requests_app_ticket": "prendre-en-charge",
}
UNKNOWN_TOKEN = "lien-inconnu-de-la-matrice"
AUTOCOMPLETE_QUERY = "app_label=conventions&model_name=conventionmetier&field_name=partenaire&term="


def admin_model_view(key):
    """('accounts_user', 'change') for 'admin:accounts_user_change', None for the admin's other pages."""
    if not key.startswith("admin:"):
        return None
    name = key.removeprefix("admin:")
    for view in ADMIN_VIEWS:
        model = name.removesuffix(f"_{view}")
        if model != name and model in ADMIN_MODELS:
            return model, view
    return None


def concrete_path(key, route, pattern, world):
    """A path to request for this URL, its parameters filled with the world's objects."""
    if pattern.name is None:  # unnamed: the admin's object shortcut, or its catch-all
        if route.endswith("<path:object_id>/"):
            app_label, model_name = route.split("/")[1:3]
            return f"/{route.split('<')[0]}{world['admin_objects'][f'{app_label}_{model_name}'].pk}/"
        if route.startswith("admin/") and "(?P<url>" in route:
            return "/admin/pas-une-page/"
        raise AssertionError(f"URL sans nom inattendue : {route}")
    if found := admin_model_view(key):
        model, view = found
        obj = world["admin_objects"][model]
        if view in ("changelist", "add"):
            args = []
        elif view == "action":
            assert model in ACTION_SLUGS, f"{key} : ajoutez à ACTION_SLUGS une action ouverte sur {obj!r}."
            args = [obj.pk, ACTION_SLUGS[model]]
        elif view == "simple_history":
            args = [obj.pk, obj.history.first().history_id]
        else:
            args = [obj.pk]
        return reverse(key, args=args)
    special = {
        "admin:app_list": lambda: reverse(key, kwargs={"app_label": "requests_app"}),
        "admin:view_on_site": lambda: reverse(
            key, args=[ContentType.objects.get_for_model(world["demande"]).pk, world["demande"].pk]
        ),
        "admin:autocomplete": lambda: f"{reverse(key)}?{AUTOCOMPLETE_QUERY}",
        "ticket_detail": lambda: reverse(key, args=[world["ticket"].reference]),
        "ticket_reply": lambda: reverse(key, args=[world["ticket"].reference]),
        "ticket_attachment": lambda: reverse(key, args=[world["ticket"].reference, world["ticket_attachment"].pk]),
    }
    if key in special:
        return special[key]()
    kwargs = {}
    for parameter in pattern.pattern.converters:
        if parameter == "pk" and key in world["pk_for"]:
            kwargs[parameter] = world["pk_for"][key].pk
        elif parameter in world["parameters"]:
            kwargs[parameter] = world["parameters"][parameter]
        else:
            raise AssertionError(f"Paramètre {parameter!r} de l'URL {key} : dites à la matrice comment le remplir.")
    return reverse(key, kwargs=kwargs)


def answer(response):
    """The status code, or "→name" for a redirect (the URL name of its target)."""
    if response.status_code in (301, 302, 303, 307, 308):
        match = resolve(urlsplit(response["Location"]).path)
        return f"→{match.view_name}"
    return response.status_code


# --- The world ----------------------------------------------------------------------------------------------


@pytest.fixture
def world(private_media):
    return build_world()


def build_world():
    """The matrix's objects and users (also the back-office axe sweep's, tests/e2e/test_sweeps.py)."""
    caisse = CaisseFactory(name="CPAM de la matrice")
    caisse_b = CaisseFactory(name="CPAM d'une autre caisse")
    convention = partner_with_access(caisse=caisse, name="Structure de la matrice")
    partenaire = convention.convention_metier.partenaire
    DomaineEmailFactory(partenaire=partenaire, domain="matrice.example")
    other = partner_with_access(caisse=caisse, name="Autre structure de la caisse").convention_metier.partenaire
    suspended = partner_with_access(caisse=caisse, name="Structure bientôt suspendue").convention_metier.partenaire
    partner_with_access(caisse=caisse_b, name="Structure de l'autre caisse")

    group = sync_agent_group()

    def user(profile, **kwargs):  # a fixed name: Faker's might be the insured's own first name (shows_insured)
        return UserFactory(first_name="Camille", last_name=profile.replace("_", " ").capitalize(), **kwargs)

    users = {
        "technicien": user("technicien", partenaire=partenaire),
        "gestionnaire": user("gestionnaire", gestionnaire=True, partenaire=partenaire),
        "agent": user("agent", agent=True, caisse=caisse),
        "agent_autre_caisse": user("agent_autre_caisse", agent=True, caisse=caisse_b),
        "technicien_autre_structure": user("technicien_autre_structure", partenaire=other),
        "gestionnaire_autre_structure": user("gestionnaire_autre_structure", gestionnaire=True, partenaire=other),
        "structure_suspendue": user("structure_suspendue", partenaire=suspended),
        "compte_inactive": user("compte_inactive", partenaire=partenaire),
        "technicien_sans_2fa": user("technicien_sans_2fa", partenaire=partenaire),
        "agent_sans_2fa": user("agent_sans_2fa", agent=True, caisse=caisse),
        "administrateur": user("administrateur", administrateur=True),
    }
    for name in ("agent", "agent_autre_caisse", "agent_sans_2fa"):
        users[name].groups.add(group)
    technicien, gestionnaire, agent = users["technicien"], users["gestionnaire"], users["agent"]

    version = CGU.objects.create(
        version="matrice", body="Conditions de la matrice.", published_at=timezone.now() - timedelta(days=1)
    )
    for user in users.values():
        if user.is_partner:
            cgu_service.accept(user, version)

    demande = demande_services.submit_demande(
        user=technicien,
        caisse=caisse,
        kind=DemandeKind.CONTACT,
        fields={
            "assure_civilite": "m",
            "assure_last_name": "Matrice",
            "assure_first_name": "Noé",
            "assure_birth_date": "1990-05-01",
            "assure_departement": "59",
        },
        message="Bonjour, merci de rappeler la personne.",
        form_token="00000000-0000-4000-8000-00000000ab12",
    )
    checked = uploads.CheckedFile(
        content=b"%PDF-1.4 matrice", kind="pdf", mime="application/pdf", size=16, original_name="piece.pdf", sha256="0"
    )
    piece = PieceJointe.objects.create(
        demande=demande,
        message=demande.messages.first(),
        direction=Direction.ENTRANTE,
        uploaded_by=technicien,
        file=uploads.store(checked),
        original_name="piece.pdf",
        mime="application/pdf",
        size=16,
        sha256="0" * 64,
    )
    document = content.save_document(
        DocumentPartenaire(caisse=caisse, title="Guide de la matrice", category=DocumentCategory.GUIDE, published=True),
        actor=users["administrateur"],
        checked=checked,
    )
    notice = content.save_notice(
        MaintenanceNotice(
            caisse=caisse,
            title="Maintenance de la matrice",
            message="Le portail sera fermé.",
            starts_at=timezone.now() + timedelta(days=30),
            ends_at=timezone.now() + timedelta(days=30, hours=2),
        ),
        actor=agent,
    )
    habilitation = habilitations.record_habilitation_request(
        HabilitationRequest(
            partenaire=partenaire,
            civilite="m",
            last_name="Delattre",
            first_name="Marc",
            job_title="Responsable",
            phone="0320000000",
            email="marc@matrice.example",
        ),
        actor=agent,
    )
    modification = habilitations.request_gestionnaire_modification(
        gestionnaire, {"phone": "0611223344"}, requested_by=gestionnaire
    )
    incident = habilitations.report_incident(
        technicien, kind=IncidentKind.LOSS, description="Identifiants égarés.", reported_by=gestionnaire
    )
    review = habilitations.request_review(
        HabilitationReview(partenaire=partenaire, due_on=timezone.localdate() + timedelta(days=30)), actor=agent
    )
    ticket = assistance.report_problem(
        user=technicien,
        caisse=caisse,
        category=TicketCategory.DYSFONCTIONNEMENT,
        page="/demandes/",
        description="La liste des demandes ne se charge pas.",
        user_agent="Matrice",
    )
    ticket_attachment = TicketAttachment.objects.create(
        ticket=ticket,
        message=ticket.messages.get(),
        uploaded_by=technicien,
        file=uploads.store(checked, folder="assistance"),
        original_name="capture.pdf",
        mime="application/pdf",
        size=16,
        sha256="0" * 64,
    )
    information = assistance.publish_information(
        InformationPartenaire(caisse=caisse, partenaire=partenaire, title="Délais", body="Délais allongés."),
        actor=agent,
    )
    term = HealthTerm.objects.create(term="matriceterme")
    reponse_type = ReponseType.objects.create(caisse=caisse, title="Réponse de la matrice", body="Bien reçu.")
    entry = audit.record(Action.DEMANDE_READ, actor=technicien, target=demande)

    admin_objects = {
        "accounts_user": technicien,
        "accounts_cgu": version,
        "accounts_accountincident": incident,
        "accounts_gestionnairerequest": modification,
        "accounts_habilitationrequest": habilitation,
        "accounts_habilitationreview": review,
        "auth_group": group,
        "conventions_caisse": caisse,
        "conventions_conventionmetier": convention.convention_metier,
        "conventions_conventionutilisation": convention,
        "conventions_partenaire": partenaire,
        "portal_documentpartenaire": document,
        "core_journalentry": entry,
        "portal_maintenancenotice": notice,
        "requests_app_demande": demande,
        "requests_app_ticket": ticket,
        "requests_app_informationpartenaire": information,
        "core_healthterm": term,
        "requests_app_reponsetype": reponse_type,
    }
    return {
        "users": users,
        "suspended": suspended,
        "demande": demande,
        "ticket": ticket,
        "ticket_attachment": ticket_attachment,
        "admin_objects": admin_objects,
        "parameters": {
            "token": UNKNOWN_TOKEN,
            "reference": demande.reference,
            "piece_id": piece.pk,
            "document_id": document.pk,
            "caisse_id": caisse.pk,
            "kind": DemandeKind.CONTACT.value,
            "information_id": information.pk,
        },
        "pk_for": {
            "resend_invitation": technicien,
            "technicien_inactivate": technicien,
            "technicien_reset_two_factor": technicien,
            "gestionnaire_modification": gestionnaire,
            "gestionnaire_inactivation": gestionnaire,
            "review_attest": review,
        },
    }


def sign_in(client, world, profile):
    """Sign the profile in (second factor passed); the suspended and inactivated ones lose it afterwards."""
    if profile == "anonyme":
        return
    users = world["users"]
    verified_login(client, users[profile])
    if profile.endswith("_sans_2fa"):  # the password was right, the second factor not given yet
        session = client.session
        del session[DEVICE_ID_SESSION_KEY]
        session.save()
        return
    # The session works before the suspension or inactivation: what follows is their effect alone.
    assert client.get(reverse("home")).status_code == 200
    if profile == "structure_suspendue":
        convention_services.suspend_partenaire(
            world["suspended"], reason="Utilisation non conforme aux CGU.", actor=users["agent"]
        )
    elif profile == "compte_inactive":
        account_services.inactivate_technicien(
            users[profile], gestionnaire=users["gestionnaire"], reason=InactivationReason.LEFT_STRUCTURE
        )


# --- Sending a request, and what its answer may show or write ------------------------------------------------

# Who may see the world's request (D8: its structure's users; its caisse's agents; the national administrator).
# The others — signed out, another structure, another caisse, a session without its second factor — must not
# find its insured person in any answer, whatever the method and the URL.
NOT_ENTITLED = frozenset(PROFILES) - {"technicien", "gestionnaire", "agent", "administrateur"}
# The insured of the world's request is Noé Matrice ("matrice" alone also names the caisse and the structure;
# the world's users have fixed names, as Faker's could be Noé).
INSURED_NAME = ("noé", "no\\u00e9", "no&#233;", "no&eacute;")
# A sign-out's success is the sign-in page, and it journals the logout (P4): not a refusal.
SIGN_OUT = frozenset({"logout", "admin:logout"})


def shows_insured(body: bytes) -> bool:
    text = body.decode("utf-8", "replace").casefold()
    return any(needle in text for needle in INSURED_NAME)


def refused(key, expected) -> bool:
    """A cell that denies the page: 4xx, or sent to sign in or to the second factor."""
    if isinstance(expected, frozenset) or key in SIGN_OUT:
        return False
    return expected in (LOGIN, ADMIN_LOGIN, VERIFY) or (isinstance(expected, int) and expected >= 400)


class Writes:
    """The tables written since the last look: PostgreSQL's counters of rows inserted, updated or deleted in this
    transaction (a rolled-back savepoint's rows included), one query per request."""

    def __init__(self):
        self.counts = self.read()

    @staticmethod
    def read() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
                " WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
            )
            return dict(cursor.fetchall())

    def since_last_look(self) -> list[str]:
        counts = self.read()
        written = sorted(t for t, n in counts.items() if n != self.counts.get(t, 0))
        self.counts = counts
        return written


def send(client, method, path, data, writes):
    """One request, its body empty unless given (the test client skips CSRF checks, as a forged form would), then
    undo what it did — rows and cookies — so that every cell meets the world as built (a confirmed admin action
    or a sign-out does not change the next cells). Returns the response, its body, the tables it wrote."""
    cookies = deepcopy(client.cookies)
    with transaction.atomic():
        response = getattr(client, method.lower())(path, data)
        # A streamed file is read to the end: the test client then closes it (and only it).
        body = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    client.cookies = cookies
    return response, body, writes.since_last_look()


def matrix_cells(client, world, profile, method, table, bodies=None):
    """Send `method` to every URL of the resolver as the signed-in `profile` and compare with `table`; a refused
    answer must write nothing, and no answer out of the profile's reach may show the world's insured person.
    Returns the wrong cells and the known bugs seen."""
    wrong, bugs_seen, writes = [], [], Writes()
    for key, (route, pattern) in sorted(resolver_urls().items()):
        path = concrete_path(key, route, pattern, world)
        response, body, written = send(client, method, path, (bodies or {}).get(key), writes)
        got = answer(response)
        if key not in table:
            wrong.append(f"{key} ({path}) : aucune ligne pour {method}")
            continue
        expected = table[key][profile]
        ok = got in expected if isinstance(expected, frozenset) else got == expected
        cell = f"{method} {key} [{profile}] {path}"
        bug = KNOWN_BUGS.get((method, key, profile))
        if bug and ok:
            wrong.append(f"{cell} : répond comme attendu ({got}) — retirez-la de KNOWN_BUGS")
        elif bug:
            bugs_seen.append(f"{cell} : {bug}")
        elif not ok:
            wrong.append(f"{cell} : attendu {expected}, obtenu {got}")
        if (refused(key, expected) or profile in NOT_ENTITLED) and shows_insured(body):
            wrong.append(
                f"{cell} : la réponse ({got}) montre l'assuré de la demande, hors de portée du profil ou refusée"
            )
        if refused(key, expected) and written:
            wrong.append(f"{cell} : refusée ({got}), elle a pourtant écrit dans {written}")
    return wrong, bugs_seen


def check_matrix(client, world, profile, method, table, bodies=None):
    """Sign the profile in, then send `method` to every URL."""
    sign_in(client, world, profile)
    wrong, bugs_seen = matrix_cells(client, world, profile, method, table, bodies)
    assert not wrong, "\n".join(wrong)
    if bugs_seen:
        pytest.xfail("Bogues connus : " + " ; ".join(bugs_seen))


# --- Tests --------------------------------------------------------------------------------------------------


def test_every_url_of_the_resolver_has_a_row():
    keys = set(resolver_urls())
    missing = sorted(keys - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - keys)
    assert not missing, f"URL sans ligne dans la matrice d'accès (ajoutez-la à EXPECTED) : {missing}"
    assert not stale, f"Lignes de la matrice pour des URL disparues : {stale}"
    assert all(set(row) == set(PROFILES) for row in EXPECTED.values())


@pytest.mark.parametrize("profile", PROFILES)
def test_access_matrix(client, world, profile):
    check_matrix(client, world, profile, "GET", EXPECTED)


@pytest.mark.parametrize("overrides", [POST_OVERRIDES, DELETE_OVERRIDES], ids=["POST", "DELETE"])
def test_overrides_are_decisions(overrides):
    """Each row overrides the GET row of a URL that exists, and differs from it (or it is not a decision)."""
    assert not overrides.keys() - EXPECTED.keys()
    assert all(set(row) == set(PROFILES) for row in overrides.values())
    assert [key for key, row in overrides.items() if row == EXPECTED[key]] == []


@pytest.mark.parametrize("profile", PROFILES)
def test_access_matrix_post(client, world, profile):
    check_matrix(client, world, profile, "POST", POST_EXPECTED, POST_BODIES)


@pytest.mark.parametrize("profile", PROFILES)
def test_access_matrix_delete(client, world, profile):
    check_matrix(client, world, profile, "DELETE", DELETE_EXPECTED)


def test_the_checks_see_what_they_look_for(client, world):
    """On the request's page, read by its technicien: `shows_insured` finds the insured, `Writes` the journal row
    of the read (P4) and the technicien's read mark (work queue) — else the matrix's checks of what an answer shows
    or writes would prove nothing."""
    verified_login(client, world["users"]["technicien"])
    path = reverse("demande_detail", args=[world["demande"].reference])
    response, body, written = send(client, "GET", path, None, Writes())
    assert response.status_code == 200
    assert shows_insured(body)
    assert written == ["portal_journalentry", "requests_app_demandelecture"]


def test_an_agent_of_another_caisse_lists_none_of_the_caisse_objects(client, world):
    """The 200s of `agent_autre_caisse` on the back-office lists hide every object of the matrix's caisse."""
    verified_login(client, world["users"]["agent_autre_caisse"])
    shared = {"core_healthterm"}  # the lexicon is national (see EXPECTED)
    leaks = []
    for model, obj in world["admin_objects"].items():
        response = client.get(reverse(f"admin:{model}_changelist"))
        if response.status_code == 403 or model in shared:
            continue
        assert response.status_code == 200, model
        if obj.pk in {row.pk for row in response.context["cl"].result_list}:
            leaks.append(model)
    autocomplete = client.get(reverse("admin:autocomplete") + "?" + AUTOCOMPLETE_QUERY)
    if str(world["admin_objects"]["conventions_partenaire"].pk) in {r["id"] for r in autocomplete.json()["results"]}:
        leaks.append("autocomplete")
    assert not leaks, f"Objets de la caisse listés pour l'agent d'une autre caisse : {leaks}"
