"""The contact flow end to end on real parts: PostgreSQL, the Redis broker, a Celery
worker process and an SMTP server on loopback. The test reads each code out of the
mail the server received, as a visitor would.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from contact import tasks
from contact.models import Delivery, Message, Verification
from harness import free_port, wait_for
from harness.visitor import form_inputs
from tests.conftest import switch_broker
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def post_form(client: Client, path: str, **fields):
    """GET ``path``, then POST its first form with the hidden inputs kept, as a browser would."""
    return client.post(path, {**form_inputs(client.get(path).content.decode()), **fields})


@pytest.fixture
def visitor(settings):
    # The "faster than a person" check is covered in unit tests; here the
    # client posts as soon as it has the page.
    settings.CONTACT_MIN_FORM_SECONDS = 0
    return Client()


def test_a_visitor_verifies_by_mail_and_the_editors_are_notified(worker, smtp, visitor):
    article = ArticleFactory(title="Wetlands return", slug="wetlands")

    response = post_form(
        visitor, "/contact/?article=wetlands", name="Jane Reader", email="jane@example.com"
    )
    assert response.status_code == 302
    assert response["Location"] == "/contact/verify/"

    code = smtp.code_for("jane@example.com")
    response = post_form(visitor, "/contact/verify/", code=code)
    assert response["Location"] == "/contact/message/"

    response = post_form(
        visitor, "/contact/message/", subject="About the wetlands", message="When does work start?"
    )
    assert response["Location"] == "/contact/thanks/"
    assert visitor.get("/contact/thanks/").status_code == 200

    notification = smtp.wait_for_mail("desk@newsroom.test")
    assert notification["Reply-To"] == "Jane Reader <jane@example.com>"
    assert "About the wetlands" in notification["Subject"]
    assert "When does work start?" in notification.get_body(("plain",)).get_content()
    message = Message.objects.get()
    assert message.article == article
    wait_for(
        lambda: Message.objects.filter(pk=message.pk, delivery_state=Delivery.SENT).exists(),
        timeout=10,
        what="the notification to be recorded as sent",
    )


def test_broker_down_at_step_one_then_the_sweep_sends_the_code(worker, smtp, visitor, broker_url):
    switch_broker(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    response = post_form(visitor, "/contact/", name="Jane", email="jane@example.com")
    assert response.status_code == 302  # the visitor still reaches step 2
    assert visitor.get("/contact/verify/").status_code == 200
    verification = Verification.objects.get()
    assert verification.delivery_state == Delivery.QUEUED
    assert smtp.to("jane@example.com") == []

    switch_broker(broker_url)  # the broker is back
    # Two minutes later the periodic sweep (run by the worker) enqueues the mail again.
    Verification.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=3))
    tasks.outbox_sweep.delay()
    code = smtp.code_for("jane@example.com")
    assert post_form(visitor, "/contact/verify/", code=code)["Location"] == "/contact/message/"


def test_smtp_down_for_good_ends_failed_and_visible_in_the_admin(worker, smtp, visitor):
    smtp.reply = "451 4.3.0 mail system unavailable"
    post_form(visitor, "/contact/", name="Jane", email="jane@example.com")
    verification = wait_for(
        lambda: Verification.objects.filter(delivery_state=Delivery.FAILED).first(),
        timeout=30,
        what="the verification mail to be marked failed",
    )
    assert smtp.refused == 4  # the first try and three retries
    assert verification.delivery_attempts == 4
    assert "451" in verification.delivery_error

    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = admin.get("/admin/contact/verification/", headers={"X-Forwarded-Proto": "https"})
    assert page.status_code == 200
    assert "Failed" in page.content.decode()


def test_smtp_refusing_then_accepting_is_retried_and_delivered(worker, smtp, visitor):
    smtp.reply = "451 4.3.0 try again later"
    post_form(visitor, "/contact/", name="Jane", email="jane@example.com")
    wait_for(lambda: smtp.refused >= 1, timeout=10, what="the first refused attempt")
    smtp.reply = None
    assert len(smtp.code_for("jane@example.com")) == 6
    verification = wait_for(
        lambda: Verification.objects.filter(delivery_state=Delivery.SENT).first(),
        timeout=10,
        what="the delivery to be recorded",
    )
    assert verification.delivery_attempts >= 2
    assert smtp.refused >= 1
