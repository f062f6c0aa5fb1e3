"""The three steps of the verified contact flow, and the pages around them.

Each view turns what ``contact.services`` answers (or raises) into a page or a
redirect; the rules themselves live there. The verification a visitor works
on is bound to their server-side session, never to a URL or form field, so
another browser cannot continue it. None of these pages may be cached.
"""

import math
import re
import secrets

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from articles.selectors import published_article
from newsroom.http import client_ip
from newsroom.seo import PageMeta

from . import services
from .forms import CodeForm, MessageForm, StartForm, started_token
from .models import Message, Verification

# Session keys. A verification id, the id of the last one used for a message
# (a resubmitted step 3 lands on the thanks page instead of storing twice), the
# message stored with it, and what to prefill when a visitor must start again.
SESSION_VERIFICATION = "contact_verification"
SESSION_SUBMITTED = "contact_submitted"
SESSION_MESSAGE = "contact_message"
SESSION_PREFILL = "contact_prefill"

# A cookie holding a random value of this browser's, which step 1's fill-time token is
# signed with (``forms.started_token``): a token served to one browser is refused from
# any other. A cookie of its own rather than the session: opening the form writes
# nothing on the server, and a reader who only looked at it keeps the proxy's
# micro-cache (a session cookie bypasses it); it is sent to the contact pages only.
FORM_COOKIE = "contact_form"
_FORM_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{22}")

STEPS = (
    gettext_lazy("Your details"),
    gettext_lazy("Verify your email"),
    gettext_lazy("Your message"),
)


def _page(request, template: str, *, title: str, step: int | None = None, status=200, **context):
    context["meta"] = PageMeta(
        title=title,
        description=_("Write to the newsroom."),
        path=request.path,
        noindex=True,
    )
    if step is not None:
        context["step"] = step
        context["steps"] = [
            {"number": number, "label": label, "done": number < step, "current": number == step}
            for number, label in enumerate(STEPS, start=1)
        ]
    return render(request, template, context, status=status)


def _throttled(request, exc: services.Throttled):
    """HTTP 429 with Retry-After; the page does not say which limit fired."""
    response = _page(
        request,
        "contact/throttled.html",
        title=_("Please wait"),
        status=429,
        retry_minutes=math.ceil(exc.retry_after / 60),
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


def _start_again(request, exc: services.ContactError):
    """Back to step 1 with the reason, keeping the name, email and article typed before."""
    verification_id = request.session.pop(SESSION_VERIFICATION, None)
    verification = (
        Verification.objects.select_related("article").filter(pk=verification_id).first()
        if verification_id
        else None
    )
    messages.warning(request, str(exc))
    url = reverse("contact:start")
    if verification is not None:
        request.session[SESSION_PREFILL] = {"name": verification.name, "email": verification.email}
        if verification.article is not None:
            url += "?" + urlencode({"article": verification.article.slug})
    return redirect(url)


def _form_binding(request) -> str:
    """The value this browser keeps for step 1's form; a new one when it has none."""
    value = request.COOKIES.get(FORM_COOKIE, "")
    return value if _FORM_COOKIE_VALUE.fullmatch(value) else secrets.token_urlsafe(16)


def _keep_form_binding(request, response, binding: str):
    if request.COOKIES.get(FORM_COOKIE) != binding:
        response.set_cookie(
            FORM_COOKIE,
            binding,
            path=reverse("contact:start"),
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite=settings.SESSION_COOKIE_SAMESITE,
        )
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def start(request):
    """Step 1: name and email. Every well-formed address gets the same answer."""
    binding = _form_binding(request)
    return _keep_form_binding(request, _start(request, binding=binding), binding)


def _start(request, *, binding: str):
    if request.method == "POST":
        form = StartForm(request.POST, binding=binding)
        if form.is_valid():
            try:
                verification = services.verification_start(
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    article=form.cleaned_data["article"],
                    client_ip=client_ip(request),
                )
            except services.Throttled as exc:
                return _throttled(request, exc)
            # A new session key for a new verification: nobody who planted a
            # session id in this browser can follow it into the flow.
            request.session.cycle_key()
            for key in (SESSION_SUBMITTED, SESSION_MESSAGE, SESSION_PREFILL):
                request.session.pop(key, None)
            request.session[SESSION_VERIFICATION] = str(verification.pk)
            return redirect("contact:verify")
        form.prepare_retry()
        article = published_article(request.POST.get("article"))
    else:
        article = published_article(request.GET.get("article"))
        initial = {"article": article.slug if article else ""}
        if prefill := request.session.get(SESSION_PREFILL):
            initial |= {**prefill, "started": started_token(binding=binding, already_waited=True)}
        form = StartForm(initial=initial, binding=binding)
    return _page(
        request, "contact/start.html", title=_("Contact us"), step=1, form=form, article=article
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request):
    """Step 2: the code from the mail."""
    try:
        verification = services.verification_get(
            verification_id=request.session.get(SESSION_VERIFICATION)
        )
        step = services.verification_step(verification=verification)
    except services.VerificationEnded as exc:
        return _start_again(request, exc)
    if step == Verification.STEP_MESSAGE:
        return redirect("contact:message")

    if request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                services.verification_check(
                    verification_id=verification.pk,
                    code=form.cleaned_data["code"],
                    client_ip=client_ip(request),
                )
            except services.Throttled as exc:
                return _throttled(request, exc)
            except services.VerificationEnded as exc:
                return _start_again(request, exc)
            except services.WrongCode as exc:
                form.add_error("code", ValidationError(str(exc), code="wrong_code"))
            else:
                return redirect("contact:message")
    else:
        form = CodeForm()
    return _page(
        request,
        "contact/verify.html",
        title=_("Verify your email"),
        step=Verification.STEP_CODE,
        form=form,
        verification=verification,
        delayed=verification.delivery_delayed(),
        resend_wait=verification.resend_wait(timezone.now()),
        resends_left=verification.resends_left(),
    )


@never_cache
@require_POST
def resend(request):
    """Step 2's "send a new code" button. The service judges the cooldown and the cap."""
    try:
        verification = services.verification_resend(
            verification_id=request.session.get(SESSION_VERIFICATION),
            client_ip=client_ip(request),
        )
    except services.ResendRefused as exc:
        # The verify page itself says how long to wait or that no codes are left;
        # the note says only what this click did, so nothing is printed twice.
        if exc.reason == "cooldown":
            messages.warning(request, _("No new code was sent yet."))
        else:
            messages.warning(request, _("No new code was sent."))
        return redirect("contact:verify")
    except services.Throttled as exc:
        return _throttled(request, exc)
    except services.VerificationEnded as exc:
        return _start_again(request, exc)
    if verification.step(timezone.now()) == Verification.STEP_MESSAGE:  # verified in another tab
        return redirect("contact:message")
    messages.success(request, _("We sent a new code to %(email)s.") % {"email": verification.email})
    return redirect("contact:verify")


def _sent(request, verification_id: str, message: Message):
    request.session.pop(SESSION_VERIFICATION, None)
    request.session[SESSION_SUBMITTED] = verification_id
    request.session[SESSION_MESSAGE] = message.pk
    return redirect("contact:thanks")


def _message_refused(request, verification_id, exc: services.ContactError):
    """Where a visitor goes when step 3 is not (or no longer) theirs to use."""
    if isinstance(exc, services.NotVerified):
        messages.info(request, str(exc))
        return redirect("contact:verify")
    if exc.reason == "used":
        # A second tab or a resubmit racing the first submit: it is done.
        message = Message.objects.filter(verification_id=verification_id).first()
        if message is not None:
            return _sent(request, verification_id, message)
    return _start_again(request, exc)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def message(request):
    """Step 3: subject and message; name and email come from the verification."""
    verification_id = request.session.get(SESSION_VERIFICATION)
    if verification_id is None and request.session.get(SESSION_SUBMITTED):
        # Sent already: a double click or the browser's resubmit must not store twice.
        return redirect("contact:thanks")
    try:
        verification = services.verification_for_message(verification_id=verification_id)
    except (services.NotVerified, services.VerificationEnded) as exc:
        return _message_refused(request, verification_id, exc)

    if request.method == "POST":
        form = MessageForm(request.POST)
        if form.is_valid():
            try:
                stored = services.message_submit(
                    verification_id=verification.pk,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["message"],
                )
            except (services.NotVerified, services.VerificationEnded) as exc:
                return _message_refused(request, verification_id, exc)
            return _sent(request, verification_id, stored)
    else:
        form = MessageForm()
    return _page(
        request,
        "contact/message.html",
        title=_("Write your message"),
        step=Verification.STEP_MESSAGE,
        form=form,
        verification=verification,
        article=verification.article,
    )


@never_cache
@require_http_methods(["GET", "HEAD"])
def thanks(request):
    """The confirmation, for the session that stored a message; anyone else is told
    nothing was sent and where to write."""
    message_id = request.session.get(SESSION_MESSAGE)
    if message_id is None:
        return _page(request, "contact/nothing_sent.html", title=_("Nothing sent yet"))
    # The row may be gone (deleted as spam): the visitor did send, so still thank them.
    sent = Message.objects.filter(pk=message_id).first()
    return _page(request, "contact/thanks.html", title=_("Thank you"), sent=sent)
