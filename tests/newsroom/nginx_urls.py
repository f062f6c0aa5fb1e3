"""The site as it runs, plus the answers tests/newsroom/test_nginx.py needs from it.

The real pages are the site's own (the article page sends the page cache's
``public, max-age=0, s-maxage=<n>`` to anonymous visitors). ``/articles/_nginx/<case>/``
(under a path nginx caches) answers any method with the headers of one case, to
show which answers nginx keeps and which it does not.
"""

import time

from django.http import HttpResponse
from django.urls import path
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

import newsroom.urls

PUBLIC = "public, max-age=0, s-maxage=30"

# case: (Cache-Control or None, further headers, sets a cookie)
CASES = {
    # Kept by nginx.
    "public-s-maxage": (PUBLIC, {}, False),
    "public-max-age": ("public, max-age=30", {}, False),
    "slow": (PUBLIC, {}, False),
    "short": (PUBLIC, {}, False),  # the first answer says s-maxage=1 (see answer)
    "validators": (
        PUBLIC,
        {"ETag": '"v1"', "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"},
        False,
    ),
    # Never kept.
    "no-header": (None, {}, False),
    "private": ("private, max-age=30", {}, False),
    "no-store": ("public, no-store, s-maxage=30", {}, False),
    "no-cache": ("no-cache, s-maxage=30", {}, False),
    "never-cache": ("max-age=0, no-cache, no-store, must-revalidate, private", {}, False),
    "s-maxage-zero": ("public, max-age=30, s-maxage=0", {}, False),
    "not-public": ("max-age=30", {}, False),
    "expires-only": (None, {"Expires": "in a minute"}, False),
    "set-cookie": (PUBLIC, {}, True),
}
SLOW_SECONDS = 0.5
# How many times "short" answered: its first answer expires after a second, so the
# test sees it go stale; the refreshed one lasts, so the test sees it replaced.
short_answers = 0


@csrf_exempt
def answer(request, case):
    cache_control_value, headers, sets_cookie = CASES[case]
    global short_answers
    if case == "slow":
        time.sleep(SLOW_SECONDS)
    if case == "short":
        short_answers += 1
        if short_answers == 1:
            cache_control_value = "public, max-age=0, s-maxage=1"
    response = HttpResponse(f"{case} answered a {request.method}\n", content_type="text/plain")
    if cache_control_value:
        response["Cache-Control"] = cache_control_value
    for name, value in headers.items():
        response[name] = http_date(time.time() + 60) if value == "in a minute" else value
    if sets_cookie:
        response.set_cookie("visited", "1")
    return response


urlpatterns = [
    path("articles/_nginx/<str:case>/", answer),
    *newsroom.urls.urlpatterns,
]
