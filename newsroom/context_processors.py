from django.conf import settings


def site(request):
    """Site-wide names for templates. Reads nothing per visitor."""
    return {"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL}
