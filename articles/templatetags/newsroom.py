from django import template

from articles import pagecache
from articles.models import Topic

register = template.Library()


@register.inclusion_tag("includes/topic_nav.html", takes_context=True)
def topic_nav(context):
    """Every topic as a navigation link; the current one is marked.

    The list is kept in the cache until a topic changes (one query after that).
    """
    topics = pagecache.cached_value(
        "topic-nav", [pagecache.GLOBAL_TAG], lambda: list(Topic.objects.all())
    )
    return {"topics": topics, "current_topic": context.get("current_topic")}
