from django.urls import path
from django.views.generic import TemplateView

app_name = "contact"

# Placeholders: the contact views replace them (same names and paths).
_placeholder = TemplateView.as_view(template_name="contact/placeholder.html")

urlpatterns = [
    path("", _placeholder, name="start"),
    path("verify/", _placeholder, name="verify"),
    path("verify/resend/", _placeholder, name="resend"),
    path("message/", _placeholder, name="message"),
    path("thanks/", _placeholder, name="thanks"),
]
