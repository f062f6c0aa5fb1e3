"""Admin widgets that say what each of their inputs is."""

from django.contrib.admin.widgets import AdminSplitDateTime
from django.utils.html import format_html


class LabelledSplitDateTime(AdminSplitDateTime):
    """Django's date-and-time pair, with "Date:" and "Time:" as real labels.

    Django prints them as plain text before each input, so a screen reader announces
    two unnamed text boxes: here each names its own input (``<label for=…>``).
    """

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        date, time = context["widget"]["subwidgets"]
        for key, subwidget in (("date_label", date), ("time_label", time)):
            context[key] = format_html(
                '<label for="{}">{}</label>', subwidget["attrs"]["id"], context[key]
            )
        return context
