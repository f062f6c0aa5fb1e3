"""How the public site and the admin write dates and times, in English (any variant).

One format for both, so an editor and a reader quote the same time in the same
words; always in the site's time zone (``TIME_ZONE``) and naming it, because
a newsroom's readers and editors are not all in one zone. Django's own locale
formats apply to everything not set here. Feeds keep their RFC formats.
"""

DATETIME_FORMAT = "j M Y, H:i T"  # 2 Dec 2026, 14:05 GMT
DATE_FORMAT = "j M Y"  # 2 Dec 2026
