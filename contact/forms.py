"""The forms of the three contact steps.

They check what a visitor typed and nothing more: whether an address may get
a code, or a code is right, is for ``contact.services`` to say. Every rule about
characters lives here, once:

- Text that may end up in a mail header (name, subject) is refused when it holds
  a line break or any other control or format character, so no field can add a
  header, or an RFC 2047 encoded word (``=?utf-8?q?…?=``), which a mail program
  would show decoded: as other characters, a right-to-left override, an address.
- A name, subject or message must show something: characters drawn as nothing
  (a Hangul filler, a blank Braille pattern, variation selectors on nothing) are
  as empty as spaces. A name needs a letter or a digit.
- The visitor's address must be spelled with the characters a mail server reads
  (no fullwidth letters, no Kelvin sign) and lie on the public internet (no IP
  literal, no ``localhost``, no local-network names).
"""

import re
import time
import unicodedata
from functools import partial

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms
from django.conf import settings
from django.core import signing
from django.utils.encoding import punycode
from django.utils.translation import gettext_lazy as _

from articles.models import Article
from articles.selectors import published_article

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

# An RFC 2047 encoded word, found as leniently as mail programs decode one: inside
# quotes, against other text, with an empty charset or text, with a language tag.
# A person never types one; "Is 2+2=?" is no encoded word and passes.
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bq]\?.*?\?=", re.IGNORECASE | re.DOTALL)

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt; unicodedata does
# not expose it): drawn as nothing. Most are format characters or marks, but the
# Hangul fillers (U+115F, U+1160, U+3164, U+FFA0) are letters (Lo), so a check of
# categories alone lets a name of them through.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors, vowel separator
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),  # tags, variation selectors 17-256
)
# Drawn as a blank though they are symbols: BRAILLE PATTERN BLANK, MUSICAL SYMBOL
# NULL NOTEHEAD.
_BLANK_SYMBOLS = frozenset({"\u2800", "\U0001d159"})
_SHOWS_NOTHING = _BLANK_SYMBOLS | frozenset(
    chr(point) for first, last in _DEFAULT_IGNORABLE for point in range(first, last + 1)
)

# Domains a visitor's address may not have: the special-use names that lead to the
# mail server's own machine or network, or nowhere (RFC 6761 .localhost and .invalid,
# RFC 6762 .local, RFC 7686 .onion, RFC 8375 home.arpa and the rest of .arpa, ICANN's
# .internal). Any ``localhost`` label counts too (``localhost.localdomain``, and mail
# servers deliver ``localhost.<their domain>`` to themselves). Left alone: .test and
# the example names, which no public resolver answers for, so mail to them goes
# nowhere, and which tests and documentation use.
_LOCAL_TOP_LEVEL = frozenset({"localhost", "local", "internal", "arpa", "invalid", "onion"})


def _has_unsafe(
    text: str, categories: frozenset[str], allowed: frozenset[str] = frozenset()
) -> bool:
    return any(ch not in allowed and unicodedata.category(ch) in categories for ch in text)


def _shows(ch: str) -> bool:
    """Whether a reader sees ``ch``: a letter, digit, punctuation or symbol that is drawn,
    or a character a font may draw that is private or newer than this Python's Unicode
    (a new emoji). Spaces, controls, joiners, marks (drawn only on a letter) and the
    characters above are not seen."""
    category = unicodedata.category(ch)
    return (category[0] in "LNPS" or category in ("Co", "Cn")) and ch not in _SHOWS_NOTHING


def _is_letter_or_digit(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LN" and ch not in _SHOWS_NOTHING


def _require_something_shown(value: str, *, label: str) -> None:
    """What shows nothing is as empty as spaces are, whatever characters it holds.

    The visitor typed something (a font may even draw a box for it), so the error
    says why it does not count rather than that the field is empty.
    """
    if not value:
        raise forms.ValidationError(_("This field is required."), code="required")
    if not any(_shows(ch) for ch in value):
        raise forms.ValidationError(
            _(
                "The %(field)s holds only blank or invisible characters. "
                "Please type it with letters, digits or punctuation."
            ),
            code="shows_nothing",
            params={"field": label},
        )


def _one_line_text(value: str, *, label: str) -> str:
    """Trimmed single-line text for a mail header, shown as typed and showing something."""
    if _has_unsafe(value, _HEADER_UNSAFE, _JOINERS):
        raise forms.ValidationError(
            _("The %(field)s must be on one line, without special characters."),
            code="control_characters",
            params={"field": label},
        )
    if _ENCODED_WORD.search(value):
        raise forms.ValidationError(
            _(
                "The %(field)s contains “=?…?=”, which mail programs would show as "
                "different text. Please remove it."
            ),
            code="encoded_word",
            params={"field": label},
        )
    value = value.strip()
    _require_something_shown(value, label=label)
    return value


def _look_alike(email: str) -> str | None:
    """The first character of ``email`` that only looks like one a mail server reads.

    Django's EmailValidator matches the part before the @ case-insensitively, so the
    Kelvin sign, the long s and the dotless i pass for k, s and i; its domain pattern
    takes fullwidth letters. A mail server reads them as other addresses (or not at
    all), so an address must be ASCII before the @ and NFKC-stable after it.
    """
    local, _, domain = email.rpartition("@")
    for ch in local:
        if not ch.isascii():
            return ch
    if unicodedata.normalize("NFKC", domain) == domain:
        return None
    for end in range(1, len(domain) + 1):
        if unicodedata.normalize("NFKC", domain[:end]) != domain[:end]:
            # A combining mark NFKC joins to the letter before it is shown with it.
            start = end - 2 if unicodedata.combining(domain[end - 1]) else end - 1
            return domain[max(start, 0) : end]
    return domain  # not reached: the whole domain is such a prefix


def _on_public_internet(domain: str) -> bool:
    """Whether mail to ``domain`` (an ASCII name, as DNS spells it) goes out to the
    internet: a dotted name outside the special-use ones."""
    labels = domain.lower().split(".")
    return len(labels) > 1 and "localhost" not in labels and labels[-1] not in _LOCAL_TOP_LEVEL


def _dns_spelling(domain: str) -> str:
    """``domain`` as Django's mail spells it for the mail server (``xn--…`` labels)."""
    try:
        return punycode(domain)  # the very conversion Django's mail makes
    except UnicodeError:  # no mail could be sent there
        raise forms.ValidationError(_("Enter a valid email address."), code="invalid") from None


def _check_visitor_address(email: str) -> None:
    """Refuse an address the code mail could not, or must not, be sent to."""
    odd = _look_alike(email)
    if odd is not None:
        raise forms.ValidationError(
            _("Please type the address with ordinary letters: “%(char)s” only looks like one."),
            code="lookalike",
            params={"char": odd},
        )
    domain = email.rpartition("@")[2]
    # An IP literal ([127.0.0.1]) is no domain at all, though Django's EmailValidator takes it.
    if domain.startswith("[") or not _on_public_internet(_dns_spelling(domain)):
        raise forms.ValidationError(
            _("Please use an address on a public mail domain: “%(domain)s” is not one."),
            code="not_public",
            params={"domain": domain},
        )


def _started_salt(binding: str) -> str:
    return f"{STARTED_SALT}:{binding}"


def started_token(*, binding: str, already_waited: bool = False) -> str:
    """A signed timestamp of when the step-1 form was handed out to one browser.

    ``binding`` is a random value that browser keeps (``contact.views`` holds it in a
    cookie). It is part of the signature's salt, so the token is worth nothing posted
    from another browser: a robot cannot load the form once and post its token from
    any number of fresh sessions.

    ``already_waited`` dates it CONTACT_MIN_FORM_SECONDS back: for a form the site
    filled in itself (a visitor sent back to step 1 after passing it once), where
    nothing is left to type and pressing Next at once is what a person does.
    """
    issued = time.time()
    if already_waited:
        issued -= settings.CONTACT_MIN_FORM_SECONDS
    return signing.dumps(issued, salt=_started_salt(binding))


def started_age(token: str, *, binding: str) -> float | None:
    """Seconds since ``token`` was issued to the browser holding ``binding``; ``None`` if
    it was tampered with, is too old or was issued to another browser."""
    try:
        issued = signing.loads(token, salt=_started_salt(binding), max_age=STARTED_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(issued, int | float):
        return None
    return time.time() - issued


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
    started = forms.CharField(required=False, widget=forms.HiddenInput)
    # forms.Field, not CharField: a broken slug is ignored, never an error.
    article = forms.Field(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, binding: str, **kwargs):
        """``binding``: the value the visitor's browser keeps for this form (see
        ``started_token``)."""
        super().__init__(*args, **kwargs)
        self.binding = binding
        self.fields["started"].initial = partial(started_token, binding=binding)
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
        name = _one_line_text(self.cleaned_data["name"], label=_("name"))
        if not any(_is_letter_or_digit(ch) for ch in name):
            raise forms.ValidationError(
                _("Please enter your name with at least one letter or digit."),
                code="no_letters",
            )
        return name

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        # Django accepts quoted local parts, which may hold control characters.
        if '"' in email or _has_unsafe(email, _HEADER_UNSAFE | {"Zs"}):
            raise forms.ValidationError(_("Enter a valid email address."), code="invalid")
        _check_visitor_address(email)
        return services.normalize_email(email)

    def clean_article(self) -> Article | None:
        return published_article(self.cleaned_data.get("article"))

    def clean(self):
        cleaned_data = super().clean()
        age = started_age(self.data.get("started") or "", binding=self.binding)
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
            data["started"] = started_token(binding=self.binding)
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
        # Encoded words are left alone here: no mail program decodes them in a body.
        _require_something_shown(message, label=_("message"))
        if len(message) > MESSAGE_MAX_LENGTH:
            raise forms.ValidationError(
                _("Keep the message under %(max)d characters (it has %(length)d)."),
                code="max_length",
                params={"max": MESSAGE_MAX_LENGTH, "length": len(message)},
            )
        return message
