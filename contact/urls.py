from django.urls import path
from django.views.generic import TemplateView

app_name = "contact"

# The verified contact flow (issue 3) replaces this placeholder page.
urlpatterns = [
    path("", TemplateView.as_view(template_name="contact/placeholder.html"), name="start"),
]
