from django.contrib import admin

from .models import Message, Verification

# The editors' inbox replaces these plain registrations.
admin.site.register([Message, Verification])
