from . import (
    admin_demandes,  # noqa: F401
)
