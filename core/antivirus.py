"""Antivirus scan of attachments (D5): a small interface of our own around clamd's INSTREAM command.

`scan(data)` returns only when the daemon clearly answered "OK". It raises `Infected` when the daemon found a
signature and `ScannerUnavailable` on anything else (daemon down, timeout, connection reset, stream too long,
garbled answer…): fail closed, an error is never taken for a clean file.
"""

import logging
import re
import socket
import struct

import clamd
from django.conf import settings

logger = logging.getLogger(__name__)

# clamd resets the connection on a stream longer than its StreamMaxLength (25M: clamd's default and the value
# of scripts/services.sh). We never send more; CLAMD_STREAM_MAX_BYTES overrides it if a daemon is set lower.
DEFAULT_STREAM_MAX_BYTES = 25 * 1024 * 1024
CHUNK_BYTES = 64 * 1024  # INSTREAM chunk; must stay below StreamMaxLength

_CLEAN_REPLY = "stream: OK"
_FOUND_REPLY = re.compile(r"stream: (?P<signature>[^\x00-\x1f]+) FOUND")


class ScanError(Exception):
    """Base of the antivirus outcomes that are not "clean"."""


class Infected(ScanError):
    """clamd found a signature in the data."""

    def __init__(self, signature: str):
        super().__init__(signature)
        self.signature = signature


class ScannerUnavailable(ScanError):
    """No clear answer from clamd: the data was NOT scanned and must be refused."""


class _ClamdClient(clamd.ClamdNetworkSocket):
    """clamd's network client with two fixes for INSTREAM.

    - the connection itself is bounded by the timeout (the library sets it only after `connect`);
    - every byte is sent with `sendall`: with a timeout the socket is non-blocking underneath, and the library's
      plain `send` may write part of a chunk, which would desynchronise the chunked stream.
    """

    def _init_socket(self):
        try:
            self.clamd_socket = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise clamd.ConnectionError(self._error_message(exc)) from exc

    def instream_bytes(self, data: bytes) -> str:
        """Send `data` through INSTREAM and return clamd's one-line reply (empty if the daemon hung up)."""
        self._init_socket()
        try:
            sock = self.clamd_socket
            sock.sendall(b"nINSTREAM\n")
            for start in range(0, len(data), CHUNK_BYTES):
                chunk = data[start : start + CHUNK_BYTES]
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            return self._recv_response()
        finally:
            self._close_socket()


def stream_max_bytes() -> int:
    return getattr(settings, "CLAMD_STREAM_MAX_BYTES", DEFAULT_STREAM_MAX_BYTES)


def scan(data: bytes) -> None:
    """Scan `data` with clamd. Returns None when clean; raises `Infected` or `ScannerUnavailable`."""
    limit = stream_max_bytes()
    if len(data) > limit:
        # clamd would cut the connection half-way: refuse before sending anything.
        raise ScannerUnavailable(f"{len(data)} octets : au-delà de la limite de flux de clamd ({limit} octets)")
    client = _ClamdClient(settings.CLAMD_HOST, settings.CLAMD_PORT, timeout=settings.CLAMD_TIMEOUT)
    try:
        reply = client.instream_bytes(bytes(data))
    except Exception as exc:  # fail closed: OSError, timeout, clamd.ClamdError, a decoding error… = not scanned
        logger.warning("clamd %s:%s sans réponse exploitable : %r", client.host, client.port, exc)
        raise ScannerUnavailable(f"clamd {client.host}:{client.port} : {exc!r}") from exc
    if reply == _CLEAN_REPLY:
        return
    found = _FOUND_REPLY.fullmatch(reply)
    if found:
        logger.warning("clamd : signature %s détectée", found["signature"])
        raise Infected(found["signature"])
    logger.error("clamd %s:%s : réponse inattendue %r", client.host, client.port, reply)
    raise ScannerUnavailable(f"réponse inattendue de clamd : {reply!r}")
