"""Inlines: formsets that refuse, with the rule's French message, a row the database would refuse; tabular
inlines whose inputs are named.

Django's inline forms leave out the constraints that involve the parent's foreign key: it only compares the
rows of the page with each other, and only on plain fields. A row posted again as new (a replayed or edited
page) or a case-variant of a `Lower()` unique key reached the INSERT and failed as an IntegrityError (a 500).
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.text import capfirst


class ConstraintCheckedFormSet(BaseInlineFormSet):
    def rows_to_save(self):
        return [
            form for form in self.forms if form.is_valid() and form.has_changed() and not self._should_delete_form(form)
        ]

    def clean(self):
        super().clean()
        for form in self.rows_to_save():
            try:
                form.instance.validate_constraints()
            except ValidationError as error:
                form.add_error(None, error.messages)

    def refuse_duplicates(self, key, message):
        """Refuse rows of the page sharing `key(instance)`, for keys Django does not compare (expressions)."""
        seen = set()
        for form in self.rows_to_save():
            value = key(form.instance)
            if value in seen:
                form.add_error(None, message)
            seen.add(value)


class LabelledTabularInline(admin.TabularInline):
    """A tabular inline whose every input has a name: a column's header is not its inputs' label (axe: label,
    critical), so each gets an aria-label — the column, the inline and the row ("Nom (référent, ligne 2)")."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        row_name = self.verbose_name

        class LabelledFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                where = row_name if index is None else f"{row_name}, ligne {index + 1}"
                for field in form.fields.values():
                    if not field.widget.is_hidden:
                        # A foreign key's select sits inside the admin's RelatedFieldWidgetWrapper: name the select.
                        widget = getattr(field.widget, "widget", field.widget)
                        widget.attrs.setdefault("aria-label", f"{capfirst(field.label)} ({where})")

        LabelledFormSet.__name__ = formset.__name__
        return LabelledFormSet
