from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from articles.selectors import kept_topics
from newsroom.pagecache import values
from newsroom.pagecache.store import GLOBAL_TAG

register = template.Library()


@register.simple_tag(takes_context=True)
def topic_nav(context, *, cached_only=False):
    """Every topic as a navigation link; the current one is marked.

    The rendered menu is kept in the cache, one per current topic, until a topic
    changes: every public page shows it, and rendering a link per topic was a
    good part of a page's render. ``cached_only`` shows it only when the cache
    has it, and nothing otherwise: the error pages never wait for the database.
    """
    current = context.get("current_topic")
    key = f"topic-nav:{current.pk if current else 0}"

    def render():
        return render_to_string(
            "includes/topic_nav.html", {"topics": kept_topics(), "current_topic": current}
        )

    if cached_only:
        html = values.kept_value(key, [GLOBAL_TAG], default="")
    else:
        html = values.cached_value(key, [GLOBAL_TAG], render)
    return mark_safe(html)  # noqa: S308 - rendered by our template, escaped there
