"""The private files in an S3-compatible object store (django-storages' S3 backend), for several web nodes that
share no disk.

`s3_storage()` builds the `STORAGES["default"]` entry (settings and tests use the same one); `STORAGE_ERRORS` is
what a storage may raise when it cannot read or write, a local disk (OSError) or an object store (botocore), so
that callers refuse cleanly instead of failing with a 500.

Objects are private: no ACL is set (the bucket's, private by default), no URL is ever given to a browser; every
download goes through the view that checks the right and journals the read (README, « Stockage objet »).
"""

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

OBJECT_STORE_ERRORS = (BotoCoreError, ClientError)
STORAGE_ERRORS = (OSError, *OBJECT_STORE_ERRORS)

# Short timeouts and one retry: a store that does not answer must refuse an upload in seconds, like clamd down,
# not hold a web worker for botocore's default minute.
CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=30,
    retries={"mode": "standard", "max_attempts": 2},
    signature_version="s3v4",
    s3={"addressing_style": "path"},
)


def s3_storage(*, bucket: str, endpoint_url: str, access_key: str, secret_key: str, region: str) -> dict:
    """The STORAGES entry of the object store."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "access_key": access_key,
            "secret_key": secret_key,
            "region_name": region,
            "client_config": CLIENT_CONFIG,
            # Our names are random (core.uploads.store): no existence check before each write.
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
            "object_parameters": {"CacheControl": "private, no-store"},
            # A download spills to a temporary file past 2 MiB instead of growing the worker's memory.
            "max_memory_size": 2 * 1024 * 1024,
        },
    }
