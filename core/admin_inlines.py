"""Inline formsets that refuse, with the rule's French message, a row the database would refuse.

Django's inline forms leave out the constraints that involve the parent's foreign key: it only compares the
rows of the page with each other, and only on plain fields. A row posted again as new (a replayed or edited
page) or a case-variant of a `Lower()` unique key reached the INSERT and failed as an IntegrityError (a 500).
"""

from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet


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
