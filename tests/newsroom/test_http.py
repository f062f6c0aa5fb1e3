"""The client address behind trusted proxies, for the contact limits and the login lockout
(which tests/newsroom/test_security.py runs through django-axes)."""

import pytest

from newsroom.http import client_ip


@pytest.mark.parametrize(
    ("forwarded", "proxies", "expected"),
    [
        ("198.51.100.9", 0, "10.0.0.1"),  # no proxy configured: the header is ignored
        ("198.51.100.9", 1, "198.51.100.9"),
        ("6.6.6.6, 198.51.100.9", 1, "198.51.100.9"),  # the visitor's forged entry is ignored
        ("6.6.6.6, 198.51.100.9, 10.0.0.2", 2, "198.51.100.9"),
        ("", 1, "10.0.0.1"),
    ],
)
def test_client_ip_trusts_forwarded_for_only_as_configured(
    rf, settings, forwarded, proxies, expected
):
    settings.CONTACT_TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
