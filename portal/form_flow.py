"""The one way a portal page submits a form to a service."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from .admin_actions import attach_errors


def submit(request, form, run: Callable[[dict], str], success_url: str):
    """On a valid POST, call the service; its refusal goes onto the form (what was typed stays), its
    success message is flashed and the browser is redirected. Returns None when the page must be shown."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        message = run(form.cleaned_data)
    except ValidationError as exc:
        attach_errors(form, exc)
        return None
    messages.success(request, message)
    return redirect(success_url)
