"""The seed's surface: the welcome page and the text counter."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from counter import store
from counter.names import SEED_COUNTER


@require_safe
def welcome(request: HttpRequest) -> HttpResponse:
    return render(request, "counter/welcome.html")


@require_safe
def count(request: HttpRequest) -> HttpResponse:
    total = store.hit(SEED_COUNTER)
    response = HttpResponse(f"Visitor count: {total}", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
