"""Facts about a web request that more than one app needs."""

from django.conf import settings


def client_ip(request) -> str:
    """The visitor's address, for the contact limits and the admin's login lockout.

    ``REMOTE_ADDR`` unless the operator said how many reverse proxies sit in
    front (``TRUSTED_PROXY_COUNT``, the setting ``CONTACT_TRUSTED_PROXY_COUNT``).
    Each proxy appends the address it saw to X-Forwarded-For, so the client is
    that many entries from the right; anything further left was written by the
    visitor and is ignored. django-axes calls it too (``AXES_CLIENT_IP_CALLABLE``).
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.CONTACT_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < proxies:
        return remote
    return hops[-proxies]
