from django.http import HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """Liveness: the process answers. Deliberately touches no database, cache or broker."""
    return HttpResponse("ok\n", content_type="text/plain")
