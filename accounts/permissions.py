"""The model permissions every caisse agent holds; which rows they reach is scoped by `visible_to`."""

from django.contrib.auth.models import Group, Permission

AGENT_GROUP = "Agents de caisse"
AGENT_PERMISSIONS = {
    "conventions": {
        "caisse": ["view", "change"],
        "referent": ["view", "add", "change", "delete"],
        "canalsecours": ["view", "add", "change", "delete"],
        "partenaire": ["view", "add", "change"],
        "domaineemail": ["view", "add", "change", "delete"],
        "conventionmetier": ["view", "add", "change"],
        "conventionutilisation": ["view", "add", "change"],
        "avenant": ["view", "add", "change"],
        "miseendemeure": ["view", "add"],
    },
    # The health-data lexicon of the free-text guard (D4): terms are switched off, never deleted.
    "core": {
        "healthterm": ["view", "add", "change"],
    },
    "requests_app": {
        "demande": ["view", "change"],
        # the thread and the request's history, shown on the request's page
        "message": ["view"],
        "demandechange": ["view"],
        # canned replies: a caisse's own ones are its agents' to keep (national ones: read-only, see their admin)
        "reponsetype": ["view", "add", "change", "delete"],
        # P7: reported problems (answered through the object actions) and information to the partners
        "ticket": ["view", "change"],
        "informationpartenaire": ["view", "add"],
        "informationacknowledgement": ["view"],
    },
    "accounts": {
        # "change" only opens the account actions (inactivate, reset 2FA…): every field stays read-only.
        "user": ["view", "change"],
        "habilitationrequest": ["view", "add", "change"],
        "gestionnairerequest": ["view", "change"],
        "accountincident": ["view", "change"],
        "habilitationreview": ["view", "add"],
    },
}


def sync_agent_group(**kwargs) -> Group:
    """Create or update the agents' group (post_migrate: permissions exist only after migrations)."""
    group, _ = Group.objects.get_or_create(name=AGENT_GROUP)
    wanted = []
    for app_label, models in AGENT_PERMISSIONS.items():
        for model, actions in models.items():
            codenames = [f"{action}_{model}" for action in actions]
            wanted += list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
    group.permissions.set(wanted)
    return group
