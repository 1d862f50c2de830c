"""What keeps personal data out of the logs and the error reports (P4)."""

import logging

from django.template.base import VariableDoesNotExist
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter


class TemplateLookupWithoutContext(logging.Filter):
    """At DEBUG, Django logs each failed template variable lookup with a VariableDoesNotExist traceback whose
    text is the whole template context (an account holder's name, an insured person's…). Keep the message —
    the variable's and the template's names — and drop the traceback."""

    def filter(self, record):
        if record.exc_info and record.exc_info[0] is not None and issubclass(record.exc_info[0], VariableDoesNotExist):
            record.exc_info = None
            record.exc_text = None
        return True


# Headers that repeat the address with its query (?q=<a name>) or the previous page's.
ADDRESS_HEADERS = frozenset({"QUERY_STRING", "HTTP_REFERER", "REQUEST_URI", "RAW_URI"})


class PrivateExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports (the emails to ADMINS) never carry what was posted or what the code held: an insured
    person's name, a message, a password. The traceback's lines, the path and the other headers stay."""

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        return {key: self.cleansed_substitute if key in ADDRESS_HEADERS else value for key, value in meta.items()}


class PrivateExceptionReporter(ExceptionReporter):
    """With the filter above: the signed-in account by its number, not its name; the address without its query;
    the names of the query parameters and files, not their values."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None:
            hidden = self.filter.cleansed_substitute
            user = getattr(self.request, "user", None)
            data["user_str"] = f"compte n° {user.pk}" if getattr(user, "pk", None) else None
            data["request_GET_items"] = [(key, hidden) for key in self.request.GET]
            data["request_FILES_items"] = [(key, hidden) for key in self.request.FILES]
            data["request_insecure_uri"] = self.request.path
        return data
