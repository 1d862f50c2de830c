"""factory-boy factories of the requests app (D1–D9): a request as the service would have filed it — its
structure under convention with its caisse, its technicien, its first message and its history.

    DemandeFactory()                                   a contact request, just sent
    DemandeFactory(rendez_vous=True, traitee=True)     an appointment request the caisse has treated
    DemandeFactory(with_piece=True)                    with a checked PDF stored in the private storage
"""

from datetime import date, datetime

import factory
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from core.text import fold
from requests_app.models import (
    ChangedField,
    Delivery,
    Demande,
    DemandeChange,
    DemandeKind,
    DemandeState,
    Message,
    PieceJointe,
    Side,
)
from requests_app.models.demande import new_reference
from tests.accounts.factories import UserFactory
from tests.conventions.factories import partner_with_access

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


class DemandeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Demande
        exclude = ["convention"]
        skip_postgeneration_save = True

    convention = factory.LazyFunction(partner_with_access)
    partenaire = factory.LazyAttribute(lambda d: d.convention.convention_metier.partenaire)
    caisse = factory.LazyAttribute(lambda d: d.convention.convention_metier.caisse)
    filed_by = factory.SubFactory(UserFactory, partenaire=factory.SelfAttribute("..partenaire"))
    kind = DemandeKind.CONTACT
    created_at = factory.LazyFunction(timezone.now)
    state_changed_at = factory.SelfAttribute("created_at")
    assure_civilite = "mme"
    assure_last_name = factory.Faker("last_name", locale="fr_FR")
    assure_first_name = factory.Faker("first_name", locale="fr_FR")
    assure_birth_date = date(1984, 6, 15)
    assure_departement = "59"
    search_text = factory.LazyAttribute(lambda d: fold(f"{d.reference} {d.assure_last_name} {d.assure_first_name}"))
    reference = factory.LazyFunction(new_reference)

    class Params:
        etude_dossier = factory.Trait(kind=DemandeKind.ETUDE_DOSSIER, dossier_type="css")
        signalement = factory.Trait(kind=DemandeKind.SIGNALEMENT, nature="renoncement", urgency="normale")
        rendez_vous = factory.Trait(
            kind=DemandeKind.RENDEZ_VOUS,
            reason="Ouverture de droits",
            modality="sur_place",
            slot_1=factory.LazyFunction(lambda: timezone.make_aware(datetime(2026, 12, 7, 9, 0))),
            worker_attends=True,
        )
        document = factory.Trait(
            kind=DemandeKind.DOCUMENT, document_type="attestation_droits", delivery=Delivery.ASSURE
        )
        en_cours = factory.Trait(state=DemandeState.EN_COURS)
        en_attente = factory.Trait(state=DemandeState.EN_ATTENTE)
        traitee = factory.Trait(state=DemandeState.TRAITEE)
        cloturee = factory.Trait(state=DemandeState.CLOTUREE)

    @factory.post_generation
    def thread(demande, create, extracted, **kwargs):
        """The first message, and the history that leads to the state (D7): what submit_demande and the moves
        of the caisse would have written."""
        if not create:
            return
        Message.objects.create(
            demande=demande,
            author=demande.filed_by,
            side=Side.PARTENAIRE,
            body=extracted or "Merci de rappeler la personne.",
            created_at=demande.created_at,
        )
        DemandeChange.objects.create(
            demande=demande, new_value=DemandeState.ENVOYEE, by=demande.filed_by, at=demande.created_at
        )
        if demande.state != DemandeState.ENVOYEE:
            agent = UserFactory(agent=True, caisse=demande.caisse)
            DemandeChange.objects.create(
                demande=demande,
                field=ChangedField.STATE,
                old_value=DemandeState.ENVOYEE,
                new_value=demande.state,
                by=agent,
                at=demande.state_changed_at,
            )

    @factory.post_generation
    def with_piece(demande, create, extracted, **kwargs):
        """An attachment of the first message, stored in the private storage."""
        if create and extracted:
            name = default_storage.save("pieces/justificatif.pdf", ContentFile(PDF))
            PieceJointe.objects.create(
                demande=demande,
                message=demande.messages.first(),
                uploaded_by=demande.filed_by,
                file=name,
                original_name="justificatif.pdf",
                mime="application/pdf",
                size=len(PDF),
                sha256="0" * 64,
            )
