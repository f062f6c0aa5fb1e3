"""The site's settings, with ``bench/floor.py`` as the URLconf: what ``bench/serve.py``
runs gunicorn (and its own query counts) with, so the floor is served without the
site carrying a route for it."""

from newsroom.settings import *  # noqa: F403 - every setting exactly as the site has it

ROOT_URLCONF = "bench.floor"
