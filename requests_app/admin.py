from . import (
    admin_assistance,  # noqa: F401
    admin_demandes,  # noqa: F401
    admin_reponses,  # noqa: F401
)
