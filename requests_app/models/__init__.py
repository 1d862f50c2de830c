"""Demande and its five kinds (D1–D9)."""

from .assistance import (  # noqa: F401, E402
    TICKET_OPEN_STATES,
    TICKET_TRANSITIONS,
    InformationAcknowledgement,
    InformationPartenaire,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketSide,
    TicketState,
)
from .demande import (  # noqa: F401
    CLOSED_STATES,
    FINAL_STATES,
    OPEN_STATES,
    TRANSITIONS,
    ChangedField,
    Delivery,
    Demande,
    DemandeChange,
    DemandeKind,
    DemandeState,
    Direction,
    DocumentType,
    DossierType,
    Message,
    Modality,
    PieceJointe,
    Side,
    SignalementNature,
    Urgency,
    overdue_q,
)
from .reading import DemandeLecture, changed_field, unread_q  # noqa: F401
from .reponse_type import ReponseType  # noqa: F401
