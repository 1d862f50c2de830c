"""Object actions in the admin: a button on the change page, a form, a service call, a French message.

Irreversible operations (suspension, termination…) go through here instead of editable fields, so the
admin calls the same service functions as the portal and shows the rule's message next to the field.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .form_flow import attach_errors  # noqa: F401  (re-exported for the admins)


class ConfirmForm(forms.Form):
    """An action with nothing to fill in: the confirmation page is the form."""


@dataclass
class ObjectAction:
    slug: str
    label: str
    form_class: type[forms.Form]
    run: Callable[[Any, dict, Any], str]  # (obj, cleaned_data, request) -> success message
    available: Callable[[Any], bool] = lambda obj: True
    description: str = ""
    irreversible: bool = False
    permitted: Callable[[Any], bool] = lambda request: True  # who may run it, from the request's user
    form_kwargs: Callable[[Any], dict] = field(default=lambda obj: {})
    # A posted form may ask to be shown again, changed, without running (a canned reply inserted): the form to show.
    refill: Callable[[forms.Form], forms.Form | None] = lambda form: None


class ObjectActionsMixin:
    object_actions: list[ObjectAction] = []
    change_form_template = "admin/object_actions_change_form.html"

    def _action_url_name(self):
        return f"{self.opts.app_label}_{self.opts.model_name}_action"

    def get_urls(self):
        custom = [
            path(
                "<path:object_id>/action/<slug:slug>/",
                self.admin_site.admin_view(self.object_action_view),
                name=self._action_url_name(),
            )
        ]
        return custom + super().get_urls()

    def available_actions(self, obj, request):
        return [
            action
            for action in self.object_actions
            if obj is not None and action.available(obj) and action.permitted(request)
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_change_permission(request, obj):
            extra_context["object_action_links"] = [
                (reverse(f"admin:{self._action_url_name()}", args=[obj.pk, action.slug]), action.label)
                for action in self.available_actions(obj, request)
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def object_action_view(self, request, object_id, slug):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        action = next((a for a in self.available_actions(obj, request) if a.slug == slug), None)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        if action is None:
            self.message_user(request, "Cette opération n'est pas possible pour cet élément.", messages.ERROR)
            return HttpResponseRedirect(change_url)
        bound = request.method == "POST"
        form = action.form_class(
            request.POST if bound else None, request.FILES if bound else None, **action.form_kwargs(obj)
        )
        refilled = action.refill(form) if bound else None
        if refilled is not None:
            form = refilled  # shown again: nothing run, nothing saved
        elif bound and form.is_valid():
            try:
                message = action.run(obj, form.cleaned_data, request)
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"{action.label} — {obj}",
            "action": action,
            "form": form,
            "change_url": change_url,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/object_action.html", context)
