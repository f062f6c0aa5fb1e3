from django import template

from articles.models import Topic

register = template.Library()


@register.inclusion_tag("includes/topic_nav.html", takes_context=True)
def topic_nav(context):
    """Every topic as a navigation link, in one query; the current one is marked."""
    return {"topics": list(Topic.objects.all()), "current_topic": context.get("current_topic")}
