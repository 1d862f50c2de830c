"""What keeps personal data out of the logs and the error reports (P4)."""

import logging

from django.views.debug import SafeExceptionReporterFilter


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


class PrivateExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports (the emails to ADMINS) never carry what was posted or what the code held: an insured
    person's name, a message, a password. The traceback's lines, the URL and the headers stay."""

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
