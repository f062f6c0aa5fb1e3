"""Placeholder views: the public-site work replaces these."""

from django.http import HttpResponse
from django.views.generic import TemplateView


class HomeView(TemplateView):
    template_name = "articles/home.html"


class ArticleDetailView(TemplateView):
    template_name = "articles/home.html"


class TopicView(TemplateView):
    template_name = "articles/home.html"


class SearchView(TemplateView):
    template_name = "articles/home.html"


def robots_txt(request):
    return HttpResponse("User-agent: *\n", content_type="text/plain")
