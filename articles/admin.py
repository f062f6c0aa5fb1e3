from django.contrib import admin

from .models import Article, Author, RelatedLink, Topic

admin.site.register([Article, Author, Topic, RelatedLink])
