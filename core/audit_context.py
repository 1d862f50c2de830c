"""Who acts, from where, in which run: the audit context, set once per web request, job run or task.

`AuditContextMiddleware` sets it for a web request (after authentication: the actor is the signed-in user at
the moment an event is recorded, so a login or a logout during the request is seen); `job_run()` sets it for
a scheduled job, a management command or a Celery task (no actor, a run id of its own). `core.audit.record`
reads it, so that services never carry the request only to reach the journal.

A `ContextVar`: each thread and each asyncio task sees its own value, and every setter resets it on the way
out, so that nothing leaks from one request (or test) to the next.
"""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class AuditContext:
    ip: str | None = None
    run_id: str | None = None
    actor_of: Callable[[], object | None] = lambda: None  # the actor at the time of the call

    @property
    def actor(self):
        return self.actor_of()


_NONE = AuditContext()
_current: ContextVar[AuditContext] = ContextVar("audit_context", default=_NONE)


def current() -> AuditContext:
    return _current.get()


@contextmanager
def bound(*, actor=None, ip: str | None = None, run_id: str | None = None, actor_of=None) -> Iterator[AuditContext]:
    """Set the context for the block, then put the previous one back (whatever happens in the block)."""
    context = AuditContext(ip=ip, run_id=run_id, actor_of=actor_of or (lambda: actor))
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def new_run_id(name: str) -> str:
    return f"{name}:{uuid.uuid4().hex[:16]}"


@contextmanager
def job_run(name: str, run_id: str | None = None) -> Iterator[AuditContext]:
    """A job, command or task run: no actor, no address, one run id for every event it records."""
    with bound(run_id=run_id or new_run_id(name)) as context:
        yield context


def client_ip(request) -> str | None:
    """The client's address. Behind our proxy (DJANGO_BEHIND_PROXY), the last X-Forwarded-For entry, the
    one the proxy wrote: the entries before it come from the client and can be forged."""
    if request is None:
        return None
    if settings.AUDIT_TRUST_X_FORWARDED_FOR:
        entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
        if entries:
            return entries[-1]
    return request.META.get("REMOTE_ADDR") or None


def signed_in_user(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class AuditContextMiddleware:
    """The web request's audit context: its signed-in user (read when an event is recorded) and its address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with bound(ip=client_ip(request), actor_of=lambda: signed_in_user(request)):
            return self.get_response(request)
