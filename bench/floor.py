"""The floor ``bench/serve.py`` measures every page against: ``/_bench/floor``.

The site's own URLs, and after them one more: a constant page of an article
page's size (``BENCH_FLOOR_BYTES``, which ``serve.py`` sets from the article it
measured) with no database and no template. It runs in the same gunicorn, with
the same settings and middleware, as the pages it is compared with; only the
URLconf differs (``bench/floor_settings.py``). The site itself has no such page.

``bench/edge.py`` adds ``/articles/_bench/static``: a constant 20 KB page that an
edge may keep for an hour (on a path Varnish looks up), to measure Varnish's own
limit serving an object it holds.
"""

import os

from django.http import HttpResponse
from django.urls import path

from newsroom import urls as site_urls

FLOOR_BYTES = int(os.environ.get("BENCH_FLOOR_BYTES", "16384"))
FLOOR_PAGE = (b"<!doctype html><title>floor</title>" + b"<p>floor</p>\n" * FLOOR_BYTES)[
    :FLOOR_BYTES
]


def floor(request):
    return HttpResponse(FLOOR_PAGE, content_type="text/html; charset=utf-8")


EDGE_STATIC_PAGE = (b"<!doctype html><title>edge</title>" + b"<p>static</p>\n" * 2048)[: 20 * 1024]


def edge_static(request):
    response = HttpResponse(EDGE_STATIC_PAGE, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "public, max-age=0, s-maxage=3600"
    response["Surrogate-Control"] = "max-age=3600"
    return response


# Last, as it was when the site's URLconf carried it: resolving it walks the
# site's patterns first, as any other unknown address would.
urlpatterns = [
    path("articles/_bench/static", edge_static, name="bench-edge-static"),
    *site_urls.urlpatterns,
    path("_bench/floor", floor, name="bench-floor"),
]
