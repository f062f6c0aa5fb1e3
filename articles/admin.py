import reversion
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from js_asset import Media
from reversion_compare.admin import CompareVersionAdmin

from . import services
from .forms import (
    ArticleAdminForm,
    CorrectionForm,
    RelatedLinkForm,
    RelatedLinkFormSet,
    TopicAdminForm,
)
from .models import Article, Author, Correction, Redirect, RelatedLink, Topic

# An article's revision carries its related links and corrections, so restoring a
# version brings them back and History/compare shows them; topics and bylines are
# registered for the compare view's sake. ``version`` is bookkeeping for edit
# conflicts, not content: a restore must never wind it back; ``search_vector`` is
# derived by the database and ``latest_correction_at`` from the corrections.
reversion.register(Topic)
reversion.register(Author)
reversion.register(RelatedLink)
reversion.register(Correction)
reversion.register(
    Article,
    follow=["related_links", "corrections"],
    exclude=["version", "search_vector", "latest_correction_at"],
)

# The saved version of the article a history restore overwrites, from ``revision_view``
# to ``changeform_view`` (django-reversion hands its extra context on).
RESTORING_OVER = "article_restoring_over"


def old_addresses_list(owner: Article | Topic) -> str:
    """The old addresses that lead to ``owner``, each a link to its redirect's page."""
    redirects = owner.redirects.order_by("old_slug")
    if not redirects:
        return _("None: only its own address leads here.")
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            '<li><a href="{}">{}</a></li>',
            (
                (reverse("admin:articles_redirect_change", args=[redirect.pk]), redirect.old_path)
                for redirect in redirects
            ),
        ),
    )


class TakeOverAddressAdminMixin:
    """The change form refuses a slug that a redirect uses until the editor ticks
    "Take over this address"; a save that slipped in between the form's check and
    its own is shown again with the same refusal (``changeform_view``).
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.AddressTaken:
            return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(Topic)
class TopicAdmin(TakeOverAddressAdminMixin, admin.ModelAdmin):
    form = TopicAdminForm
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["old_addresses"]

    def get_fields(self, request, obj=None):
        fields = ["name", "slug", "take_over_address", "description"]
        return [*fields, "old_addresses"] if obj is not None else fields

    @admin.display(description=_("Old addresses"))
    def old_addresses(self, topic: Topic) -> str:
        return old_addresses_list(topic)

    def save_model(self, request, obj, form, change):
        services.topic_save(
            topic=obj, take_over_address=form.cleaned_data.get("take_over_address", False)
        )


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class VisibilityFilter(admin.SimpleListFilter):
    """What the public sees now, which the status alone does not tell."""

    title = _("visibility")
    parameter_name = "visibility"

    def lookups(self, request, model_admin):
        return [
            ("live", _("Live")),
            ("scheduled", _("Scheduled")),
            ("draft", _("Draft")),
            ("withdrawn", _("Withdrawn")),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "live":
                return queryset.published()
            case "scheduled":
                return queryset.scheduled()
            case "draft":
                return queryset.filter(status=Article.Status.DRAFT)
            case "withdrawn":
                return queryset.filter(status=Article.Status.WITHDRAWN)
        return queryset


class RelatedLinkInline(admin.TabularInline):
    model = RelatedLink
    fk_name = "article"
    form = RelatedLinkForm
    formset = RelatedLinkFormSet
    fields = ["position", "target_article", "live_site", "url", "title", "summary"]
    readonly_fields = ["live_site"]
    autocomplete_fields = ["target_article"]
    extra = 1

    @admin.display(description=_("Live site"))
    def live_site(self, link: RelatedLink) -> str:
        if not link.pk:
            return "—"
        reason = link.hidden_reason()
        if reason:
            return format_html('<strong class="errornote">{}</strong>', reason)
        return _("shown")


class CorrectionInline(admin.TabularInline):
    model = Correction
    form = CorrectionForm
    fields = ["kind", "posted_at", "text"]
    extra = 0
    verbose_name = _("correction or update")
    verbose_name_plural = _("Corrections and updates (shown at the foot of the story)")


@admin.register(Article)
class ArticleAdmin(TakeOverAddressAdminMixin, CompareVersionAdmin):
    form = ArticleAdminForm

    class Media:
        css = {"all": ["articles/admin/article.css"]}

    inlines = [RelatedLinkInline, CorrectionInline]
    list_display = [
        "title",
        "status_on_site",
        "publish_time",
        "impact_score",
        "topic_names",
    ]
    list_filter = ["status", VisibilityFilter, "topics"]
    search_fields = ["title", "standfirst"]
    date_hierarchy = "publish_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["topics", "author"]
    readonly_fields = ["linked_from", "old_addresses"]
    actions = ["publish_now", "redate", "withdraw"]
    history_latest_first = True
    compare_exclude = ["version", "updated_at", "latest_correction_at"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (
                None,
                {
                    "fields": [
                        "title",
                        "slug",
                        "take_over_address",
                        "standfirst",
                        "body",
                        "why_it_matters",
                    ]
                },
            ),
            (
                _("Publishing"),
                {
                    "fields": [
                        "status",
                        "publish_at",
                        "impact_score",
                        "topics",
                        "author",
                        "opened_version",
                    ]
                },
            ),
            (
                _("Sharing and image"),
                {"fields": ["seo_description", "hero_image", "hero_image_alt"]},
            ),
        ]
        if obj is not None:
            fieldsets.append(
                (_("Links to this article"), {"fields": ["linked_from", "old_addresses"]})
            )
        return fieldsets

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("topics")

    # The list

    @admin.display(description=_("status"), ordering="status")
    def status_on_site(self, article: Article) -> str:
        if article.is_scheduled():
            return format_html("<strong>{}</strong>", _("Scheduled"))
        return article.get_status_display()

    @admin.display(
        description=format_lazy("{} ({} time)", _("publish time"), settings.TIME_ZONE),
        ordering="publish_at",
    )
    def publish_time(self, article: Article):
        return article.publish_at

    @admin.display(description=_("topics"))
    def topic_names(self, article: Article) -> str:
        return ", ".join(topic.name for topic in article.topics.all())

    # The change form

    @admin.display(description=_("Linked from"))
    def linked_from(self, article: Article) -> str:
        links = article.linked_from.select_related("article", "target_article").order_by(
            "article__title"
        )
        if not links:
            return _("No article links here.")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a>{}</li>',
                (
                    (
                        reverse("admin:articles_article_change", args=[link.article_id]),
                        link.article.title,
                        format_html(" — <strong>{}</strong>", link.hidden_reason())
                        if link.hidden_reason()
                        else "",
                    )
                    for link in links
                ),
            ),
        )

    @admin.display(description=_("Old addresses"))
    def old_addresses(self, article: Article) -> str:
        return old_addresses_list(article)

    def view_on_site(self, article: Article) -> str | None:
        # Only a live article is "on site"; drafts and scheduled ones get a Preview link.
        return article.get_absolute_url() if article.is_published() else None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and (obj.status == Article.Status.DRAFT or obj.is_scheduled()):
            context["preview_url"] = obj.get_absolute_url()
        # The rich-text editor's import map is an inline script: it carries the
        # request's Content-Security-Policy nonce (settings.CONTENT_SECURITY_POLICY).
        context["media"] = Media.from_media(
            context["media"], nonce=getattr(request, "csp_nonce", "")
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        services.article_save(
            article=obj,
            opened_version=form.cleaned_data.get("opened_version"),
            user=request.user,
            take_over_address=form.cleaned_data.get("take_over_address", False),
        )
        if obj.status == Article.Status.WITHDRAWN:
            self._warn_about_linkers(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The inline's corrections are written by now; the row notes the latest.
        services.article_refresh_corrections(article=form.instance)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        if saved := extra_context.pop(RESTORING_OVER, None):
            services.article_reinstate_version(article_id=unquote(object_id), saved=saved)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.EditConflict:
            # Someone saved between this form's check and its save, and nothing of
            # this request was written: shown again, the form says who and when.
            return super().changeform_view(request, object_id, form_url, extra_context)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        # A restore writes the old version into the row before the form runs, so
        # lock the row and read its version first; the change form puts it back
        # (``changeform_view``), and the restore is checked and counted on from it.
        with transaction.atomic():
            saved = services.article_lock(article_id=unquote(object_id))
            extra_context = {**(extra_context or {}), RESTORING_OVER: saved}
            return super().revision_view(request, object_id, version_id, extra_context)

    def compare_view(self, request, object_id, extra_context=None):
        # reversion-compare only asks for a staff login; a diff shows the article.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return super().compare_view(request, object_id, extra_context)

    # Actions

    @admin.action(description=_("Publish now"), permissions=["change"])
    def publish_now(self, request, queryset):
        done = 0
        for article in queryset:
            try:
                services.article_publish_now(article=article, user=request.user)
            except ValidationError as error:
                self._report_refusal(request, article, error)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(count)d article is live now.", "%(count)d articles are live now.", done)
                % {"count": done},
                messages.SUCCESS,
            )

    @admin.action(description=_("Re-date to now"), permissions=["change"])
    def redate(self, request, queryset):
        done = 0
        for article in queryset:
            try:
                services.article_redate(article=article, user=request.user)
            except ValidationError as error:
                self._report_refusal(request, article, error)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d article is live, re-dated to now.",
                    "%(count)d articles are live, re-dated to now.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )

    @admin.action(description=_("Withdraw"), permissions=["change"])
    def withdraw(self, request, queryset):
        done = 0
        for article in queryset:
            try:
                article = services.article_withdraw(article=article, user=request.user)
            except ValidationError as error:
                self._report_refusal(request, article, error)
            else:
                done += 1
                self._warn_about_linkers(request, article)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d article withdrawn.", "%(count)d articles withdrawn.", done)
                % {"count": done},
                messages.SUCCESS,
            )

    def _warn_about_linkers(self, request, article: Article) -> None:
        linkers = services.article_linkers(article=article).order_by("title")
        titles = [linker.title for linker in linkers]
        if titles:
            self.message_user(
                request,
                _(
                    "“%(title)s” is withdrawn, but these articles link to it; their cards "
                    "for it are now hidden on the live site: %(linkers)s"
                )
                % {"title": article.title, "linkers": "; ".join(f"“{t}”" for t in titles)},
                messages.WARNING,
            )

    def _report_refusal(self, request, article: Article, error: ValidationError) -> None:
        self.message_user(
            request,
            _("“%(title)s” was not changed: %(errors)s")
            % {"title": article.title, "errors": " ".join(error.messages)},
            messages.ERROR,
        )


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    """Old addresses of stories and topics. Made by renaming a live story or a topic;
    editors may add, correct or remove them here.
    """

    list_display = ["old_address", "kind", "leads_to", "created_at"]
    list_filter = ["kind"]
    search_fields = ["old_slug", "article__title", "topic__name"]
    fields = ["kind", "old_slug", "article", "topic"]
    autocomplete_fields = ["article", "topic"]
    list_select_related = ["article", "topic"]

    @admin.display(description=_("old address"), ordering="old_slug")
    def old_address(self, redirect: Redirect) -> str:
        return redirect.old_path

    @admin.display(description=_("leads to"))
    def leads_to(self, redirect: Redirect) -> str:
        target = redirect.target
        if target is None:
            return "—"
        return format_html("{} ({})", target, target.get_absolute_url())
