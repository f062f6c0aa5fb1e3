"""The site with its uploads served under MEDIA_URL, as the web server in front of it
does in production (docs/nginx/newsroom.conf): the browser tests read pictures."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

import newsroom.urls

urlpatterns = [
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    *newsroom.urls.urlpatterns,
]
