"""Refuse NUL characters anywhere, and oversize bodies at the API's edge.

PostgreSQL text cannot hold U+0000, so a NUL in a path, a query string, a JSON
body or a form field would reach the database as an error (a 500). No
legitimate request carries one; the API answers 400 in the contract's error
format instead, a page answers the 400 page. (A form's uploaded files are not
text and are not looked at.)

A body over DATA_UPLOAD_MAX_MEMORY_SIZE makes Django raise RequestDataTooBig,
which its handler answers with an HTML error page; the API answers 413 in the
contract's format instead.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse
from django.shortcuts import render

_API_PREFIX = "/api/"


class RefuseNulCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(_API_PREFIX):
            if self._page_request_carries_nul(request):
                return render(request, "400.html", status=400)
            return self.get_response(request)
        try:
            carries_nul = self._carries_nul(request)
        except RequestDataTooBig:
            return JsonResponse(
                {"code": "body_too_large", "message": "The request body is too large."},
                status=413,
            )
        if carries_nul:
            return JsonResponse(
                {"code": "nul_character", "message": "The request contains a NUL character."},
                status=400,
            )
        return self.get_response(request)

    @staticmethod
    def _page_request_carries_nul(request) -> bool:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query or "\x00" in request.path:
            return True
        if request.method != "POST":
            return False
        try:
            fields = request.POST  # parsed here as CSRF's check would parse it
        except (RequestDataTooBig, TooManyFieldsSent):
            return False  # the view's own reading refuses it with a 400
        return any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in fields.lists()
        )

    @staticmethod
    def _carries_nul(request) -> bool:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query or "\x00" in request.path:
            return True
        if request.method in ("POST", "PUT", "PATCH"):
            body = request.body
            return b"\x00" in body or b"\\u0000" in body
        return False
