from . import (
    admin_demandes,  # noqa: F401
    admin_reponses,  # noqa: F401
)
