from django.urls import path

from . import views

app_name = "contact"

urlpatterns = [
    path("", views.start, name="start"),
    path("verify/", views.verify, name="verify"),
    path("verify/resend/", views.resend, name="resend"),
    path("message/", views.message, name="message"),
    path("thanks/", views.thanks, name="thanks"),
]
