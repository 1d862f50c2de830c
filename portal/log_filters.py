"""Logging filters that keep personal data out of the logs (P4)."""

import logging


class TemplateLookupWithoutContext(logging.Filter):
    """At DEBUG, Django logs each failed template variable lookup with a VariableDoesNotExist traceback whose
    text is the whole template context (an account holder's name, an insured person's…). Keep the message —
    the variable's and the template's names — and drop the traceback."""

    def filter(self, record):
        if record.exc_info and record.exc_info[0] is not None:
            from django.template.base import VariableDoesNotExist

            if issubclass(record.exc_info[0], VariableDoesNotExist):
                record.exc_info = None
                record.exc_text = None
        return True
