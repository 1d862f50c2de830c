"""Demo data: two caisses, two partners, one login per profile. Idempotent, development only."""

import uuid
from datetime import date

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import CGU, AccountState, Civilite, Profile, User
from accounts.permissions import AGENT_GROUP, sync_agent_group
from conventions import services
from conventions.models import (
    Caisse,
    CanalSecours,
    ConventionMetier,
    ConventionUtilisation,
    DomaineEmail,
    Partenaire,
    Referent,
    Service,
)
from requests_app import assistance
from requests_app.models import Demande, DemandeKind, ReponseType, Side, TicketCategory
from requests_app.services import answer, submit_demande

CAISSES = [
    {
        "code": "597",
        "name": "CPAM de Roubaix-Tourcoing",
        "address_line": "6 rue Rémy Cogghe",
        "postal_code": "59100",
        "city": "Roubaix",
        "referents": [
            (
                "Camille Demoulin",
                "Responsable du service Relations Partenaires",
                "03 20 00 00 01",
                "06 00 00 00 01",
                "camille.demoulin@cpam-roubaix-tourcoing.example",
            ),
            (
                "Karim Benali",
                "Chargé de mission Accès aux droits et aux soins",
                "03 20 00 00 02",
                "07 00 00 00 02",
                "karim.benali@cpam-roubaix-tourcoing.example",
            ),
        ],
    },
    {
        "code": "594",
        "name": "CPAM de Lille-Douai",
        "address_line": "2 rue d'Iéna",
        "postal_code": "59000",
        "city": "Lille",
        "referents": [
            (
                "Sophie Lambert",
                "Référente partenaires",
                "03 20 00 00 10",
                "",
                "sophie.lambert@cpam-lille-douai.example",
            ),
        ],
    },
]

PARTENAIRES = [
    {
        "siret": "26590001900018",
        "name": "CCAS de Wattrelos",
        "kind": Partenaire.Kind.CCAS,
        "address_line": "3 place Jean Delvainquière",
        "postal_code": "59150",
        "city": "Wattrelos",
        "legal_representative": "Claude Martin",
        "legal_representative_title": "Président du CCAS",
        "member_count": 13,
        "domains": ["ccas-wattrelos.example"],
        "caisse": "597",
        "convention": {
            "reference": "ADS-597-2023-014",
            "start_date": date(2023, 9, 1),
            "signed_on": date(2023, 9, 30),
            "deliberation_reference": "Délibération n° 58 du 30 septembre 2023",
            "partner_signatory": "Claude Martin, Président du CCAS",
            "caisse_signatory": "Dominique Leroy, Directrice générale",
        },
    },
    {
        "siret": "77860002300015",
        "name": "Association Solidarité Santé Lille",
        "kind": Partenaire.Kind.ASSOCIATION,
        "address_line": "12 rue Nationale",
        "postal_code": "59800",
        "city": "Lille",
        "legal_representative": "Alex Dubois",
        "legal_representative_title": "Présidente",
        "member_count": 30,
        "domains": ["solidarite-sante-lille.example"],
        "caisse": "594",
        "convention": {
            "reference": "ADS-594-2024-003",
            "start_date": date(2024, 1, 15),
            "signed_on": date(2024, 2, 1),
            "deliberation_reference": "",
            "partner_signatory": "Alex Dubois, Présidente",
            "caisse_signatory": "Jean Petit, Directeur",
        },
    },
]

# (login, profile, prénom, nom, fonction, partner SIRET or caisse code)
LOGINS = [
    (
        "demo.technicien",
        Profile.TECHNICIEN,
        "Léa",
        "Fontaine",
        "Conseillère en économie sociale et familiale",
        "26590001900018",
    ),
    (
        "demo.gestionnaire",
        Profile.GESTIONNAIRE,
        "Marc",
        "Delattre",
        "Responsable du pôle social",
        "26590001900018",
    ),
    (
        "demo.technicien.lille",
        Profile.TECHNICIEN,
        "Nadia",
        "Haddad",
        "Travailleuse sociale",
        "77860002300015",
    ),
    ("demo.agent", Profile.AGENT, "Julie", "Vandamme", "Agente Relations Partenaires", "597"),
    # P7: the caisse's "Chargé de mission Accès aux droits et aux soins" (a referent, C1) answers reported problems.
    ("demo.referent", Profile.AGENT, "Karim", "Benali", "Chargé de mission Accès aux droits et aux soins", "597"),
    ("demo.agent.lille", Profile.AGENT, "Paul", "Lefebvre", "Agent Relations Partenaires", "594"),
    ("demo.admin", Profile.ADMINISTRATEUR, "Anne", "Moreau", "Administratrice nationale", None),
]


# Demo accounts share one published TOTP key (RFC 6238's test key): `manage.py demo_totp` prints the codes.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"
DEMO_CGU_BODY = """Version de démonstration des conditions générales d'utilisation de l'Espace Partenaires.

1. Le portail est réservé aux personnes habilitées des structures partenaires, à des fins professionnelles.
2. Les identifiants sont personnels : ils ne se prêtent pas et ne se communiquent pas.
3. Les zones de texte libre ne contiennent ni NIR ni donnée de santé, et rien d'excessif au regard du besoin.
4. Toute utilisation frauduleuse, perte ou vol d'identifiants est signalée sans délai à la caisse."""


DEMO_DEMANDES = [
    (
        "00000000-0000-4000-8000-000000000001",
        DemandeKind.CONTACT,
        {"assure_last_name": "Exemple", "assure_first_name": "Camille"},
        "La personne n'a pas reçu de réponse à son courrier de septembre : où en est son dossier ?",
    ),
    (
        "00000000-0000-4000-8000-000000000002",
        DemandeKind.ETUDE_DOSSIER,
        {"assure_last_name": "Fictif", "assure_first_name": "Dominique", "dossier_type": "css"},
        "Demande de Complémentaire santé solidaire déposée avec les justificatifs de ressources.",
    ),
    (
        "00000000-0000-4000-8000-000000000003",
        DemandeKind.DOCUMENT,
        {
            "assure_last_name": "Modèle",
            "assure_first_name": "Sacha",
            "document_type": "attestation_droits",
            "delivery": "assure",
        },
        "Attestation de droits demandée pour une démarche de logement.",
    ),
]


# The caisse's answer the demo technicien has not read yet (the home page's "Nouvelles réponses de la caisse").
DEMO_ANSWER = (
    "Bonjour, le courrier de septembre a bien été reçu : le dossier est en cours d'examen, une réponse sera "
    "envoyée à la personne sous quinze jours."
)

# Canned replies (réponses types): one national, one of the demo caisse (code 597).
DEMO_REPONSES_TYPES = [
    (None, "Accusé de réception", "Bonjour, nous avons bien reçu votre demande et revenons vers vous rapidement."),
    (
        "597",
        "Pièce justificative manquante",
        "Bonjour, il manque une pièce pour traiter la demande : merci de nous transmettre un justificatif de "
        "ressources récent en pièce jointe de votre réponse.",
    ),
]


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent). Refusé lorsque DEBUG est désactivé."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Les données de démonstration sont refusées lorsque DEBUG est désactivé.")
        with transaction.atomic():
            caisses = {spec["code"]: self._caisse(spec) for spec in CAISSES}
            partenaires = {spec["siret"]: self._partenaire(spec, caisses) for spec in PARTENAIRES}
            self._logins(caisses, partenaires)
            self._continuity(caisses)
            CGU.objects.get_or_create(
                version="2026.1", defaults={"body": DEMO_CGU_BODY, "published_at": timezone.now()}
            )
            self._demandes(caisses["597"])
            self._reponses_types(caisses)
            self._ticket(caisses["597"])
        self.stdout.write(self.style.SUCCESS("Données de démonstration à jour."))
        self.stdout.write(
            f"Comptes de démonstration (mot de passe : {settings.DEMO_PASSWORD} ; code de double "
            "authentification : `python manage.py demo_totp`) :"
        )
        for login, profile, *_ in LOGINS:
            self.stdout.write(f"  {login:<24} {profile.label}")

    def _caisse(self, spec):
        spec = dict(spec)
        referents = spec.pop("referents")
        caisse, _ = Caisse.objects.update_or_create(code=spec.pop("code"), defaults=spec)
        for position, (full_name, role, phone, mobile, email) in enumerate(referents, start=1):
            Referent.objects.update_or_create(
                caisse=caisse,
                position=position,
                defaults={
                    "full_name": full_name,
                    "role": role,
                    "phone": phone,
                    "mobile_phone": mobile,
                    "email": email,
                },
            )
        return caisse

    def _ticket(self, caisse):
        """P7: one open problem reported by the demo technicien to its caisse's referent (filed once)."""
        assistance.report_problem(
            user=User.objects.get(username="demo.technicien"),
            caisse=caisse,
            category=TicketCategory.USAGE,
            page="/demandes/nouvelle/",
            description="Comment joindre plusieurs justificatifs à une demande d'étude de dossier ?",
            user_agent="",
            form_token=uuid.UUID("00000000-0000-4000-8000-000000000101"),
        )

    def _continuity(self, caisses):
        """P7, P8: the referent's agent account, and a fallback channel for every service of each caisse."""
        Referent.objects.filter(caisse=caisses["597"], role="Chargé de mission Accès aux droits et aux soins").update(
            agent=User.objects.get(username="demo.referent")
        )
        for code, caisse in caisses.items():
            for service in Service:
                CanalSecours.objects.update_or_create(
                    caisse=caisse,
                    service=service,
                    defaults={
                        "phone": "36 46" if service != Service.HISTORIQUE else "",
                        "email": f"partenaires-{service.value.replace('_', '-')}@cpam-{code}.example",
                        "postal_address": f"{caisse.name}, {caisse.address_line}, {caisse.postal_code} {caisse.city}",
                        "opening_hours": "du lundi au vendredi, de 8 h 30 à 17 h",
                    },
                )

    def _partenaire(self, spec, caisses):
        spec = dict(spec)
        domains = spec.pop("domains")
        caisse = caisses[spec.pop("caisse")]
        convention = spec.pop("convention")
        partenaire = Partenaire.objects.filter(siret=spec["siret"]).first() or Partenaire()
        for name, value in spec.items():
            setattr(partenaire, name, value)
        services.save_partenaire(partenaire)
        for domain in domains:
            DomaineEmail.objects.get_or_create(partenaire=partenaire, domain=domain)
        metier = ConventionMetier.objects.in_force().filter(caisse=caisse, partenaire=partenaire).first()
        if metier is None:
            metier = services.save_convention_metier(
                ConventionMetier(
                    caisse=caisse,
                    partenaire=partenaire,
                    reference=convention["reference"],
                    start_date=convention["start_date"],
                )
            )
        if not ConventionUtilisation.objects.filter(convention_metier=metier).exists():
            services.save_convention_utilisation(
                ConventionUtilisation(
                    convention_metier=metier,
                    signed_on=convention["signed_on"],
                    partner_signatory=convention["partner_signatory"],
                    caisse_signatory=convention["caisse_signatory"],
                    deliberation_reference=convention["deliberation_reference"],
                )
            )
        return partenaire

    def _demandes(self, caisse):
        """A few requests of the demo technicien, about fictional people (same form token: filed once)."""
        technicien = User.objects.get(username="demo.technicien")
        for token, kind, fields, message in DEMO_DEMANDES:
            insured = {"assure_civilite": "mme", "assure_birth_date": date(1984, 3, 12), "assure_departement": "59"}
            submit_demande(
                user=technicien,
                caisse=caisse,
                kind=kind,
                fields={**insured, **fields},
                message=message,
                form_token=uuid.UUID(token),
            )

        # The first one answered by the caisse, once: a new answer on the technicien's home page.
        contact = Demande.objects.get(form_token=uuid.UUID(DEMO_DEMANDES[0][0]))
        if not contact.messages.filter(side=Side.CAISSE).exists():
            answer(contact, agent=User.objects.get(username="demo.agent"), body=DEMO_ANSWER)

    def _reponses_types(self, caisses):
        for code, title, body in DEMO_REPONSES_TYPES:
            ReponseType.objects.get_or_create(caisse=caisses.get(code), title=title, defaults={"body": body})

    def _logins(self, caisses, partenaires):
        agents = Group.objects.filter(name=AGENT_GROUP).first() or sync_agent_group()
        for login, profile, first_name, last_name, job_title, belongs_to in LOGINS:
            partenaire = partenaires.get(belongs_to)
            caisse = caisses.get(belongs_to)
            domain = (
                partenaire.email_domains.first().domain
                if partenaire
                else f"cpam-{caisse.code}.example"
                if caisse
                else "assurance-maladie.example"
            )
            user, created = User.objects.update_or_create(
                username=login,
                defaults={
                    "profile": profile,
                    "civilite": Civilite.MADAME
                    if first_name in {"Léa", "Nadia", "Julie", "Anne"}
                    else Civilite.MONSIEUR,
                    "first_name": first_name,
                    "last_name": last_name,
                    "job_title": job_title,
                    "email": f"{first_name.lower()}.{last_name.lower()}@{domain}".replace("é", "e"),
                    "partenaire": partenaire,
                    "caisse": caisse,
                    "state": AccountState.ACTIF,
                    "is_superuser": profile == Profile.ADMINISTRATEUR,
                    "is_demo": True,
                },
            )
            if created or not user.has_usable_password():
                user.set_password(settings.DEMO_PASSWORD)
                user.password_changed_at = timezone.now()
                user.save(update_fields=["password", "password_changed_at"])
            TOTPDevice.objects.get_or_create(
                user=user, name="Démonstration", defaults={"key": DEMO_TOTP_KEY, "confirmed": True}
            )
            if profile == Profile.AGENT:
                user.groups.add(agents)
        # The demo techniciens hang on their structure's demo gestionnaire (A11), when it has one.
        gestionnaire = User.objects.filter(username="demo.gestionnaire").first()
        User.objects.filter(username="demo.technicien", attached_to__isnull=True).update(
            attached_to=gestionnaire, created_by=gestionnaire
        )
