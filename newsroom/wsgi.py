import os

from django.core.wsgi import get_wsgi_application

from newsroom.pagecache.release import release_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

application = get_wsgi_application()

# Worked out as the process starts rather than on its first request: it reads the
# templates and the project's code (newsroom/pagecache/release.py).
release_id()
