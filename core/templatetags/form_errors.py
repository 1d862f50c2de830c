"""The error summary of a page (RGAA 11.10, DSFR): every error of every bound form the view put in the context.

One mechanism for every portal page: base.html asks `form_error_summary` once, prefixes the <title> with
"Erreur : " and draws the summary at the top of <main>, focused on load (static/portal/error-summary.js).
"""

from dataclasses import dataclass

from django import forms, template

register = template.Library()


@dataclass(frozen=True)
class SummaryError:
    message: str
    label: str = ""
    anchor: str = ""  # the id of the field's first focusable element, without "#"


def _field_anchor(bound: forms.BoundField) -> str:
    # Radio and checkbox groups have no id of their own (id_for_label is empty): their first option has "_0".
    return bound.id_for_label or (f"{bound.auto_id}_0" if bound.auto_id else "")


def form_errors(form: forms.BaseForm) -> list[SummaryError]:
    """The form's errors in reading order: those of the whole form (and of hidden fields) first, then each
    visible field's, in the order of the fields."""
    if not form.is_bound or not form.errors:
        return []
    entries = [SummaryError(str(message)) for message in form.non_field_errors()]
    for bound in form.hidden_fields():
        entries += [SummaryError(str(message)) for message in bound.errors]
    for bound in form.visible_fields():
        label = str(bound.label or bound.name)
        entries += [SummaryError(str(message), label, _field_anchor(bound)) for message in bound.errors]
    return entries


def _forms_of(value) -> list[forms.BaseForm]:
    # type(), not isinstance(): isinstance would evaluate the context's lazy objects (the user, the notices).
    kind = type(value)
    if issubclass(kind, forms.BaseForm):
        return [value]
    if issubclass(kind, forms.BaseFormSet):
        return [value, *value.forms] if value.is_bound else []
    return []


@register.simple_tag(takes_context=True)
def form_error_summary(context) -> list[SummaryError]:
    """Every error of the bound forms (and formsets) in the context, each form once."""
    seen, entries = set(), []
    for value in context.flatten().values():
        for form in _forms_of(value):
            if id(form) in seen:
                continue
            seen.add(id(form))
            if issubclass(type(form), forms.BaseFormSet):
                entries += [SummaryError(str(message)) for message in form.non_form_errors()]
            else:
                entries += form_errors(form)
    return entries
