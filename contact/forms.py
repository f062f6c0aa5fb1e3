"""The forms of the three contact steps.

They check what a visitor typed and nothing more: whether an address may get
a code, or a code is right, is for ``contact.services`` to say. Text that may
end up in a mail header (name, subject) is refused when it holds a line break
or any other control or format character, so no field can add a header.
"""

import re
import time
import unicodedata

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms
from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from articles.models import Article

from . import services

NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
SUBJECT_MAX_LENGTH = 200
MESSAGE_MAX_LENGTH = 5000
# Room for "123 456" or "123-456" as people copy it out of a mail.
CODE_INPUT_MAX_LENGTH = 12
# A step-1 page left open longer than this must be sent again (a fresh token).
STARTED_MAX_AGE = 6 * 60 * 60
STARTED_SALT = "newsroom.contact.start-form"

# Control (Cc), format (Cf, e.g. bidi overrides), line/paragraph separators
# (Zl, Zp: U+2028 and U+2029, which some software treats as line breaks) and
# lone surrogates (Cs).
_HEADER_UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# The two joiners are format characters that names are written with: the zero
# width non-joiner in Persian (U+200C), the joiner in Sinhala and Indic
# conjuncts and emoji sequences (U+200D). In a mail header they are encoded like
# any other letter and cannot reorder or hide text.
_JOINERS = frozenset({"\u200c", "\u200d"})
# A message body may hold line breaks and tabs; format characters (emoji joiners,
# right-to-left marks) are ordinary text there.
_BODY_UNSAFE = frozenset({"Cc", "Cs"})
_BODY_ALLOWED = frozenset({"\n", "\r", "\t"})


def _has_unsafe(
    text: str, categories: frozenset[str], allowed: frozenset[str] = frozenset()
) -> bool:
    return any(ch not in allowed and unicodedata.category(ch) in categories for ch in text)


def _one_line_text(value: str, *, label: str) -> str:
    """Trimmed single-line text; a line break or control character is refused."""
    if _has_unsafe(value, _HEADER_UNSAFE, _JOINERS):
        raise forms.ValidationError(
            _("The %(field)s must be on one line, without special characters."),
            code="control_characters",
            params={"field": label},
        )
    value = value.strip()
    # Joiners alone show nothing: such a value is as empty as spaces are.
    if not "".join(ch for ch in value if ch not in _JOINERS).strip():
        raise forms.ValidationError(_("This field is required."), code="required")
    return value


def started_token(*, already_waited: bool = False) -> str:
    """A signed timestamp of when the step-1 form was handed out.

    ``already_waited`` dates it CONTACT_MIN_FORM_SECONDS back: for a form the site
    filled in itself (a visitor sent back to step 1 after passing it once), where
    nothing is left to type and pressing Next at once is what a person does.
    """
    issued = time.time()
    if already_waited:
        issued -= settings.CONTACT_MIN_FORM_SECONDS
    return signing.dumps(issued, salt=STARTED_SALT)


def started_age(token: str) -> float | None:
    """Seconds since ``token`` was issued; ``None`` if it was tampered with or is too old."""
    try:
        issued = signing.loads(token, salt=STARTED_SALT, max_age=STARTED_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(issued, int | float):
        return None
    return time.time() - issued


def published_article(slug) -> Article | None:
    """The public article with ``slug``; anything else (unknown, draft, garbage) is None."""
    if not isinstance(slug, str) or not slug or len(slug) > 255 or "\x00" in slug:
        return None
    return Article.objects.published().filter(slug=slug).first()


def _helper() -> FormHelper:
    """Fields only: each template writes its own <form>, CSRF token and buttons."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


class StartForm(forms.Form):
    """Step 1: who is writing. Also refuses robots: a honeypot and a minimum fill time."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=NAME_MAX_LENGTH,
        # Checked before trimming: a trailing line break is refused, not hidden.
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your email"),
        max_length=EMAIL_MAX_LENGTH,
        help_text=_("We email a 6-digit code to this address, and reply to it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # The honeypot: hidden from people and screen readers, filled in by robots.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    started = forms.CharField(required=False, widget=forms.HiddenInput, initial=started_token)
    # forms.Field, not CharField: a broken slug is ignored, never an error.
    article = forms.Field(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stale_started = False
        self.helper = _helper()
        self.helper.layout = Layout(
            "name",
            "email",
            Div("website", css_class="contact-hp visually-hidden", aria_hidden="true"),
            Field("started"),
            Field("article"),
        )

    def clean_name(self) -> str:
        return _one_line_text(self.cleaned_data["name"], label=_("name"))

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        # Django accepts quoted local parts, which may hold control characters.
        if '"' in email or _has_unsafe(email, _HEADER_UNSAFE | {"Zs"}):
            raise forms.ValidationError(_("Enter a valid email address."), code="invalid")
        return services.normalize_email(email)

    def clean_article(self) -> Article | None:
        return published_article(self.cleaned_data.get("article"))

    def clean(self):
        cleaned_data = super().clean()
        age = started_age(self.data.get("started") or "")
        self._stale_started = age is None
        if self.data.get("website"):
            # Said plainly: a person whose browser filled the hidden field can retry.
            raise forms.ValidationError(
                _("Your details could not be sent. Please check them and click Next again."),
                code="honeypot",
            )
        if age is None:
            raise forms.ValidationError(
                _("This page was open too long or was changed. Please click Next again."),
                code="stale",
            )
        if age < settings.CONTACT_MIN_FORM_SECONDS:
            # The token keeps its time, so the same form goes through a moment later.
            raise forms.ValidationError(
                _("That was very quick. Please wait a moment and press Next again."),
                code="too_fast",
            )
        return cleaned_data

    def prepare_retry(self) -> None:
        """After an error: keep what the visitor typed, empty the honeypot and
        hand out a fresh timestamp if the old one was unusable."""
        data = self.data.copy()
        data["website"] = ""
        if self._stale_started:
            data["started"] = started_token()
        self.data = data


class CodeForm(forms.Form):
    """Step 2: the code from the mail."""

    code = forms.CharField(
        label=_("Verification code"),
        max_length=CODE_INPUT_MAX_LENGTH,
        help_text=_("The 6 digits from the email we sent you."),
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()

    def clean_code(self) -> str:
        code = services.normalize_code(self.cleaned_data["code"])
        if not re.fullmatch(rf"[0-9]{{{services.CODE_DIGITS}}}", code):
            raise forms.ValidationError(
                _("Enter the %(digits)d-digit code from the email."),
                code="invalid",
                params={"digits": services.CODE_DIGITS},
            )
        return code


class MessageForm(forms.Form):
    """Step 3: what the visitor wants to tell us. Who they are comes from the verification."""

    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX_LENGTH, strip=False)
    # The length is checked in clean_message(), once browsers' CRLF line breaks count as one.
    message = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": MESSAGE_MAX_LENGTH}),
        help_text=_("Up to %(max)d characters.") % {"max": MESSAGE_MAX_LENGTH},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()

    def clean_subject(self) -> str:
        return _one_line_text(self.cleaned_data["subject"], label=_("subject"))

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].replace("\r\n", "\n").replace("\r", "\n")
        if _has_unsafe(message, _BODY_UNSAFE, _BODY_ALLOWED):
            raise forms.ValidationError(
                _("The message contains special characters we cannot accept."),
                code="control_characters",
            )
        if len(message) > MESSAGE_MAX_LENGTH:
            raise forms.ValidationError(
                _("Keep the message under %(max)d characters (it has %(length)d)."),
                code="max_length",
                params={"max": MESSAGE_MAX_LENGTH, "length": len(message)},
            )
        return message
