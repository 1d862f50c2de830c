"""Bench only (bench.settings): how many SQL queries a page ran, and their time, in response headers."""

import time

from django.db import connection


class _Counter:
    def __init__(self):
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries += 1
            self.seconds += time.perf_counter() - started


class QueryCountMiddleware:
    """X-Bench-Queries / X-Bench-SQL-ms: the queries run until the response is returned (a streamed body's
    queries come later and are not counted: the header says so with X-Bench-Streamed)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = _Counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Bench-Queries"] = str(counter.queries)
        response["X-Bench-SQL-ms"] = f"{counter.seconds * 1000:.1f}"
        if response.streaming:
            response["X-Bench-Streamed"] = "1"
        return response
