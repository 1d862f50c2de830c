"""The one way a portal page submits a form to a service."""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def attach_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the named field when the form has it."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def safe_next(request, default: str = "") -> str:
    """The `next` of the request when it stays on this site, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


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


class FilterForm(forms.Form):
    """A list's filters (GET): the DSFR class on each input and select, and the group class its template wraps
    each field in (`field.field.group_class`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "fr-select" if is_select else "fr-input"
            field.group_class = "fr-select-group" if is_select else "fr-input-group"
