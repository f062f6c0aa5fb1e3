import copy
from types import SimpleNamespace

import reversion
from adminsortable2.admin import (
    CustomInlineFormSetMixin,
    SortableAdminBase,
    SortableStackedInline,
    SortableTabularInline,
)
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import Count, Exists, OuterRef
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from js_asset import Media
from reversion_compare.admin import CompareVersionAdmin

from . import history, pictures, selectors, services
from .forms import (
    REQUEST_REVIEW,
    ArticleAdminForm,
    AuthorAdminForm,
    BylineFormSet,
    CorrectionForm,
    CorrectionFormSet,
    PictureForm,
    RelatedLinkForm,
    RelatedLinkFormSet,
    TopicAdminForm,
    edit_conflict_error,
)
from .models import (
    Article,
    ArticleAuthor,
    Author,
    Correction,
    PendingEdit,
    Picture,
    Redirect,
    RelatedLink,
    Topic,
)
from .views import render_preview
from .widgets import LabelledSplitDateTime

# Date-and-time fields whose two inputs each have a label.
LABELLED_DATETIMES = {models.DateTimeField: {"widget": LabelledSplitDateTime}}

# An article's revision carries its bylines (authors in order), related links and
# corrections, so restoring a version brings them back and History/compare shows
# them; topics and authors are registered for the compare view's sake. ``version``
# is bookkeeping for edit conflicts, not content: a restore must never wind it back;
# ``search_vector`` is derived by the database and ``latest_correction_at`` from the
# corrections. Nor is a review request content: a restore must not bring back an old
# one (the revision that asked is still in History, with its comment).
reversion.register(Topic)
reversion.register(Author)
reversion.register(ArticleAuthor)
reversion.register(RelatedLink)
reversion.register(Correction)
reversion.register(
    Article,
    follow=["bylines", "related_links", "corrections"],
    exclude=[
        "version",
        "search_vector",
        "latest_correction_at",
        "review_requested_at",
        "review_requested_by",
    ],
)

# The saved version of the article a history restore overwrites, from ``revision_view``
# to ``changeform_view`` (django-reversion hands its extra context on).
RESTORING_OVER = "article_restoring_over"
# The story as it was before a history restore rewrote its row, from ``revision_view``
# to ``get_form`` on the request: the form is made inside django-reversion's view,
# which hands nothing else on.
RESTORING_LIVE = "article_before_restore"
# Sent by a bulk action's confirmation page (``ArticleAdmin._confirm_action``).
CONFIRMED = "post"
# Set on the request by ``save_model`` when the form was kept as a draft of changes.
SAVED_AS_DRAFT = "article_saved_as_draft_of_changes"
# A change form whose own fields changed nothing, held by ``save_model`` until
# ``save_related`` sees whether the inline rows did.
SAVE_HELD = "article_save_held"
# Set on the request when a save changed nothing and so wrote nothing.
SAVED_NOTHING = "article_saved_nothing"
# Form fields that are not the story: bookkeeping of the form itself.
FORM_ONLY_FIELDS = frozenset({"opened_version", "take_over_address"})


def old_addresses_list(owner: Article | Topic | Author) -> str:
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
class AuthorAdmin(TakeOverAddressAdminMixin, admin.ModelAdmin):
    form = AuthorAdminForm
    list_display = ["name", "role", "slug", "story_count"]
    search_fields = ["name", "slug", "role"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["old_addresses"]

    def get_fields(self, request, obj=None):
        fields = ["name", "slug", "take_over_address", "role", "bio", "photo", "photo_alt"]
        return [*fields, "old_addresses"] if obj is not None else fields

    def get_queryset(self, request):
        # Every story in their byline, whatever its status: one COUNT in the list's query.
        return super().get_queryset(request).annotate(stories=Count("bylines"))

    @admin.display(description=_("stories"), ordering="stories")
    def story_count(self, author: Author) -> int:
        return author.stories

    @admin.display(description=_("Old addresses"))
    def old_addresses(self, author: Author) -> str:
        return old_addresses_list(author)

    def save_model(self, request, obj, form, change):
        services.author_save(
            author=obj, take_over_address=form.cleaned_data.get("take_over_address", False)
        )


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
            ("taken_down", _("Taken down at its set time")),
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
            case "taken_down":
                return queryset.taken_down()
        return queryset


class ReviewFilter(admin.SimpleListFilter):
    """The stories an editor has asked a chief editor to review and publish."""

    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("ready", _("Ready for review"))]

    def queryset(self, request, queryset):
        if self.value() == "ready":
            return queryset.ready_for_review()
        return queryset


class ChangesFilter(admin.SimpleListFilter):
    """Live stories with a draft of changes waiting to be published."""

    title = _("unpublished changes")
    parameter_name = "changes"

    def lookups(self, request, model_admin):
        return [("waiting", _("Draft of changes waiting"))]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(pending_edit__isnull=False)
        return queryset


class LiveRowsInlineMixin:
    """The inline's formset checks its changes against the story as the form opened it,
    for the person filling it in (``forms.LiveOnlyFormSet``)."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # ``obj`` is the story as saved: the form has not put its values on it yet.
        opened_as = copy.copy(obj) if obj is not None and obj.pk else None
        return type(formset.__name__, (formset,), {"editor": request.user, "opened_as": opened_as})


class BylineInline(LiveRowsInlineMixin, SortableTabularInline):
    """The story's authors, in byline order: drag a row to move it."""

    model = ArticleAuthor
    formset = BylineFormSet
    fields = ["author"]
    autocomplete_fields = ["author"]
    extra = 0
    verbose_name = _("author")
    verbose_name_plural = _("Authors (the byline, in this order: drag a row to move it)")


class SortableRelatedLinkFormSet(CustomInlineFormSetMixin, RelatedLinkFormSet):
    """The related links' rules (``forms.RelatedLinkFormSet``) with django-admin-sortable2's
    hidden position field, which its script numbers 1, 2, 3… as the editor drags the rows.
    """


class RelatedLinkInline(LiveRowsInlineMixin, SortableStackedInline):
    """Stacked, two fields a line, so the form fits a laptop's window; each saved link is
    dragged by its heading (django-admin-sortable2), and a new one goes last."""

    model = RelatedLink
    fk_name = "article"
    form = RelatedLinkForm
    formset = SortableRelatedLinkFormSet
    fieldsets = [
        (
            None,
            {"fields": [("target_article", "live_site"), ("url", "title"), "summary", "position"]},
        )
    ]
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


class CorrectionInline(LiveRowsInlineMixin, admin.StackedInline):
    # Stacked, for a label on every input (a table's column headings are none).
    model = Correction
    form = CorrectionForm
    formset = CorrectionFormSet
    fieldsets = [(None, {"fields": [("kind", "posted_at"), "text"]})]
    formfield_overrides = LABELLED_DATETIMES
    extra = 0
    verbose_name = _("correction or update")
    verbose_name_plural = _("Corrections and updates (shown at the foot of the story)")


@admin.register(Article)
class ArticleAdmin(TakeOverAddressAdminMixin, SortableAdminBase, CompareVersionAdmin):
    form = ArticleAdminForm
    formfield_overrides = LABELLED_DATETIMES

    class Media:
        css = {"all": ["articles/admin/article.css", "articles/admin/body-editor.css"]}
        js = ["articles/admin/suggestions.js"]

    inlines = [BylineInline, RelatedLinkInline, CorrectionInline]
    list_display = [
        "headline",
        "status_on_site",
        "publish_time",
        "impact_score",
        "topic_names",
        "review_asked",
    ]
    list_filter = ["status", VisibilityFilter, ReviewFilter, ChangesFilter, "topics", "authors"]
    search_fields = ["title", "standfirst", "slug", "authors__name"]
    date_hierarchy = "publish_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["topics"]
    readonly_fields = ["linked_from", "old_addresses", "review_request", "suggested_related"]
    actions = ["publish_now", "redate", "withdraw", "request_review", "publish_changes"]
    history_latest_first = True
    # Not kept in the history (see ``reversion.register`` above), bookkeeping, or shown
    # as the followed byline rows (``bylines``) for the authors.
    compare_exclude = [
        "version",
        "updated_at",
        "latest_correction_at",
        "review_requested_at",
        "review_requested_by",
        "search_vector",
        "authors",
    ]

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
                        *(["review_request"] if obj is not None else []),
                        "publish_at",
                        "unpublish_at",
                        "pinned_until",
                        "impact_score",
                        "topics",
                        "opened_version",
                    ]
                },
            ),
            (
                _("Sharing and image"),
                {
                    "fields": [
                        "seo_description",
                        "hero_image",
                        "hero_image_alt",
                        "hero_image_caption",
                        "hero_image_credit",
                    ]
                },
            ),
        ]
        if obj is not None:
            fieldsets.append(
                (_("Links to this article"), {"fields": ["linked_from", "old_addresses"]})
            )
            fieldsets.append(
                (
                    _("Suggested related stories"),
                    {
                        "fields": ["suggested_related"],
                        "description": _(
                            "What readers are suggested when the story has fewer than three "
                            "related links of its own (stories sharing its topics, fresh "
                            "and high-impact ones first). “Add as related” puts one in the "
                            "related links below; saving the story adds it."
                        ),
                    },
                )
            )
        return fieldsets

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("review_requested_by")
            .prefetch_related("topics")
            .annotate(has_changes=Exists(PendingEdit.objects.filter(article=OuterRef("pk"))))
        )

    def has_publish_permission(self, request) -> bool:
        """For the actions that publish (``permissions=["publish"]``)."""
        return services.can_publish(request.user)

    # The list

    @admin.display(description=_("headline"), ordering="title")
    def headline(self, article: Article) -> str:
        # At most three lines in the list (article.css); the whole of it on hover.
        return format_html(
            '<span class="list-headline" title="{}">{}</span>', article.title, article.title
        )

    @admin.display(description=_("status"), ordering="status")
    def status_on_site(self, article: Article) -> str:
        if article.is_scheduled():
            status = format_html("<strong>{}</strong>", _("Scheduled"))
        elif article.is_taken_down():
            status = format_html("<strong>{}</strong>", _("Taken down"))
        elif article.review_requested_at:
            status = format_html(
                "{} · <strong>{}</strong>", article.get_status_display(), _("Ready for review")
            )
        else:
            status = article.get_status_display()
        if getattr(article, "has_changes", False):
            return format_html(
                '{} <span class="changes-waiting">({})</span>',
                status,
                _("unpublished changes"),
            )
        return status

    @admin.display(
        description=format_lazy("{} ({} time)", _("publish time"), settings.TIME_ZONE),
        ordering="publish_at",
    )
    def publish_time(self, article: Article):
        return article.publish_at

    @admin.display(description=_("topics"))
    def topic_names(self, article: Article) -> str:
        return ", ".join(topic.name for topic in article.topics.all())

    @admin.display(description=_("review asked for"), ordering="review_requested_at")
    def review_asked(self, article: Article) -> str:
        return review_request_text(article) or "—"

    # The change form

    @admin.display(description=_("Review"))
    def review_request(self, article: Article) -> str:
        return review_request_text(article) or _("Not asked for.")

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

    @admin.display(description=_("Suggestions"))
    def suggested_related(self, article: Article) -> str:
        cards = selectors.suggested_related(article=article)
        if not cards:
            return _("None: no other live story shares its topics.")
        return format_html(
            '<ul class="suggested-related">{}</ul>',
            format_html_join(
                "",
                '<li data-article-id="{}"><span><a href="{}" id="suggestion-{}" target="_blank" '
                'rel="noopener">{}</a><span class="suggestion-summary">{}</span></span>'
                '<button type="button" class="button add-suggested" data-article-id="{}" '
                'data-title="{}" data-added-text="{}" aria-describedby="suggestion-{}">{}'
                "</button></li>",
                (
                    (
                        card.article_id,
                        card.url,
                        card.article_id,
                        card.title,
                        Truncator(card.summary).chars(160),
                        card.article_id,
                        card.title,
                        _("Added to the related links below: save the story to keep it."),
                        card.article_id,
                        _("Add as related"),
                    )
                    for card in cards
                ),
            ),
        )

    def view_on_site(self, article: Article) -> str | None:
        # Only a live article is "on site"; drafts and scheduled ones get a Preview link.
        return article.get_absolute_url() if article.is_published() else None

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # The form checks the publishing rule for the person filling it in, and opens on
        # the article's draft of changes when it has one; not when restoring a version
        # from History, whose form shows that version.
        extra = {"editor": request.user}
        if obj is not None and not _is_restore(request):
            extra["pending_edit"] = selectors.pending_edit(article_id=obj.pk)
        if _is_restore(request):
            extra["restoring"] = getattr(request, RESTORING_LIVE, None)
        return type(form.__name__, (form,), extra)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk and context["adminform"].form.errors:
            # A refused form has already set its values on ``obj`` (a publish attempt
            # makes it look live): the links and buttons follow the story as saved.
            obj = Article.objects.filter(pk=obj.pk).first() or obj
        if obj is not None and (
            obj.status == Article.Status.DRAFT or obj.is_scheduled() or obj.is_taken_down()
        ):
            context["preview_url"] = obj.get_absolute_url()
        # "Save and ask for review", for a story that is not scheduled: a draft is
        # saved, a live story's changes are kept as its draft of changes.
        context["can_request_review"] = self.has_change_permission(request, obj) and (
            obj is None or not obj.is_scheduled()
        )
        # Whether saving a live story publishes, for the buttons' labels.
        context["may_publish"] = services.can_publish(request.user)
        if obj is not None:
            pending = None if _is_restore(request) else selectors.pending_edit(article_id=obj.pk)
            context["article_is_live"] = obj.is_published()
            context["draft_of_changes"] = selectors.DraftOfChanges.of(pending) if pending else None
            context["share_url"] = reverse("admin:articles_article_share", args=[obj.pk])
            context["discard_url"] = reverse("admin:articles_article_discard", args=[obj.pk])
            context["preview_action"] = reverse("admin:articles_article_preview", args=[obj.pk])
        else:
            context["preview_action"] = reverse("admin:articles_article_preview_new")
        # The rich-text editor's import map is an inline script: it carries the
        # request's Content-Security-Policy nonce (settings.CONTENT_SECURITY_POLICY).
        context["media"] = Media.from_media(
            context["media"], nonce=getattr(request, "csp_nonce", "")
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        if change and not _form_changes(request, form):
            # Maybe nothing to save: ``save_related`` knows once it sees the inline rows.
            setattr(request, SAVE_HELD, (obj, form))
            return
        self._save_article(request, obj, form, change)

    def _save_article(self, request, obj, form, change):
        if change and form.saves_pending:
            services.article_save_pending(
                article=obj,
                topics=form.cleaned_data.get("topics", ()),
                opened_version=form.cleaned_data.get("opened_version"),
                user=request.user,
                ask_for_review=REQUEST_REVIEW in request.POST,
            )
            setattr(request, SAVED_AS_DRAFT, True)
            return
        services.article_save(
            article=obj,
            opened_version=form.cleaned_data.get("opened_version"),
            user=request.user,
            take_over_address=form.cleaned_data.get("take_over_address", False),
        )
        if obj.status == Article.Status.WITHDRAWN:
            self._warn_about_linkers(request, obj)
        if REQUEST_REVIEW in request.POST:
            try:
                services.article_request_review(article=obj, user=request.user)
            except ValidationError as error:
                self._report_refusal(request, obj, error)
            else:
                self.message_user(
                    request,
                    _("“%(title)s” is ready for review: a chief editor can publish it.")
                    % {"title": obj.title},
                    messages.SUCCESS,
                )

    def save_related(self, request, form, formsets, change):
        held = getattr(request, SAVE_HELD, None)
        if held is not None:
            if not any(formset.has_changed() for formset in formsets):
                # A save that changes nothing writes nothing: no version counted, no
                # page purged, no History entry.
                setattr(request, SAVED_NOTHING, True)
                return
            self._save_article(request, *held, change)
        if change and form.saves_pending:
            # The topics went into the draft; the links belong to the live story and
            # were not changed (the form refuses that).
            return
        super().save_related(request, form, formsets, change)
        # The inline's corrections are written by now; the row notes the latest.
        services.article_refresh_corrections(article=form.instance)

    def construct_change_message(self, request, form, formsets, add=False):
        if getattr(request, SAVED_NOTHING, False):
            return []
        if not add and form.saves_pending:
            # The links were not saved (save_related), so they did not change.
            formsets = []
        return super().construct_change_message(request, form, formsets, add)

    def log_change(self, request, obj, message):
        if getattr(request, SAVED_NOTHING, False):
            return None
        entry = super().log_change(request, obj, message)
        if getattr(request, SAVED_AS_DRAFT, False):
            # django-reversion made the change message the revision's comment.
            comment = (
                _("Draft of changes saved (not published), asked for review: %(changes)s")
                if REQUEST_REVIEW in request.POST
                else _("Draft of changes saved (not published): %(changes)s")
            )
            reversion.set_comment(comment % {"changes": entry.get_change_message()})
        return entry

    def response_change(self, request, obj):
        if getattr(request, SAVED_NOTHING, False):
            self.message_user(
                request,
                _("Nothing was changed in “%(title)s”, so nothing was saved.") % {"title": obj},
                messages.INFO,
            )
            if "_continue" in request.POST or "_save" not in request.POST:
                return HttpResponseRedirect(request.path)
            return self.response_post_save_change(request, obj)
        if getattr(request, SAVED_AS_DRAFT, False):
            if REQUEST_REVIEW in request.POST:
                message = _(
                    "Your changes to “%(title)s” are saved as a draft of changes and are "
                    "ready for review: a chief editor can publish them. Readers still see "
                    "the published version."
                )
            else:
                message = _(
                    "Your changes to “%(title)s” are saved as a draft of changes. Readers "
                    "still see the published version until someone publishes them."
                )
            self.message_user(request, message % {"title": obj.title}, messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

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
            # The story as readers knew it, for the rule on changing a live story.
            setattr(request, RESTORING_LIVE, Article.objects.filter(pk=unquote(object_id)).first())
            extra_context = {**(extra_context or {}), RESTORING_OVER: saved}
            return super().revision_view(request, object_id, version_id, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("add/preview/", view(self.preview_view), name="articles_article_preview_new"),
            path(
                "<path:object_id>/preview/",
                view(self.preview_view),
                name="articles_article_preview",
            ),
            path("<path:object_id>/share/", view(self.share_view), name="articles_article_share"),
            path(
                "<path:object_id>/discard-changes/",
                view(self.discard_view),
                name="articles_article_discard",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, object_id=None):
        """The story as the change form sent it, unsaved, on the public article page.

        Nothing is saved; the form's errors are shown instead when it is not valid.
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self._article_or_404(request, object_id) if object_id else None
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        form_class = self.get_form(request, obj, change=obj is not None)
        form = type(form_class.__name__, (form_class,), {"for_saving": False})(
            request.POST, request.FILES, instance=obj
        )
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/articles/article/preview_errors.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "title": _("Preview: fix these first"),
                    "form": form,
                },
                status=400,
            )
        article = form.instance
        # An image chosen in the form is not uploaded until the story is saved.
        article.hero_image = obj.hero_image if obj is not None else ""
        page = selectors.preview_page(article=article, topics=form.cleaned_data.get("topics", ()))
        return render_preview(request, page)

    def share_view(self, request, object_id):
        """Make a share link for the article's draft or unpublished changes, or revoke them."""
        article = self._article_or_404(request, object_id)
        if not self.has_change_permission(request, article):
            raise PermissionDenied
        link = None
        if request.method == "POST":
            if "_revoke" in request.POST:
                services.article_revoke_share_links(article=article)
                self.log_change(request, article, _("Revoked its share links."))
                self.message_user(
                    request,
                    _("Every share link made so far for “%(title)s” has stopped working.")
                    % {"title": article.title},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(request.path)
            link = selectors.share_link(article_id=article.pk)
        pending = selectors.pending_edit(article_id=article.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": article,
            "title": _("Share a preview of “%(title)s”") % {"title": article.title},
            "link": link,
            "hours": settings.SHARE_LINK_HOURS,
            "draft_of_changes": selectors.DraftOfChanges.of(pending) if pending else None,
            "is_live": article.is_published(),
            "change_url": reverse("admin:articles_article_change", args=[article.pk]),
        }
        return TemplateResponse(request, "admin/articles/article/share.html", context)

    def discard_view(self, request, object_id):
        """Ask, then drop the article's draft of changes (the live story stays as it is)."""
        article = self._article_or_404(request, object_id)
        if not self.has_change_permission(request, article):
            raise PermissionDenied
        change_url = reverse("admin:articles_article_change", args=[article.pk])
        pending = selectors.pending_edit(article_id=article.pk)
        if request.method == "POST":
            try:
                opened = int(request.POST.get("opened_version", ""))
            except ValueError:
                opened = None
            try:
                discarded = services.article_discard_pending(
                    article=article, opened_version=opened, user=request.user
                )
            except services.EditConflict as conflict:
                self.message_user(
                    request, " ".join(edit_conflict_error(conflict).messages), messages.ERROR
                )
                return HttpResponseRedirect(change_url)
            if discarded:
                self.message_user(
                    request,
                    _(
                        "The unpublished changes to “%(title)s” were discarded; the live "
                        "story is as it was. They stay in its History."
                    )
                    % {"title": article.title},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(change_url)
        if pending is None:
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": article,
            "title": _("Discard the unpublished changes to “%(title)s”?")
            % {"title": article.title},
            "draft_of_changes": selectors.DraftOfChanges.of(pending),
            "pending": pending,
            "opened_version": article.version,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/articles/article/discard_changes.html", context)

    def _article_or_404(self, request, object_id) -> Article:
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404(_("No such article."))
        return article

    # History's compare view: the text as readers read it, word by word
    # (``articles/history.py``), and related links by their cards' titles.

    def compare_body(self, obj_compare):
        return history.body_diff(*_compared_text(obj_compare))

    def compare_title(self, obj_compare):
        return history.text_diff(*_compared_text(obj_compare))

    compare_standfirst = compare_why_it_matters = compare_seo_description = compare_title

    def compare(self, obj, version1, version2):
        """reversion-compare's field diffs, with the related links and corrections read
        from the two versions themselves and named as editors know them."""
        diff, has_unfollowed_fields = super().compare(obj, version1, version2)
        rows = {RelatedLink: self._link_changes, Correction: self._correction_changes}
        diff = [
            entry
            for entry in diff
            if getattr(entry["field"], "related_model", None) not in rows
            or not getattr(entry["field"], "one_to_many", False)
        ]
        for model, describe in rows.items():
            changes = history.row_changes(
                history.rows_of(version1, model), history.rows_of(version2, model)
            )
            if changes:
                heading = SimpleNamespace(
                    verbose_name=model._meta.verbose_name_plural, help_text=""
                )
                diff.append(
                    {
                        "field": heading,
                        "is_related": True,
                        "follow": True,
                        "diff": describe(changes),
                    }
                )
        return diff, has_unfollowed_fields

    def _link_changes(self, changes: history.RowChanges):
        versions = [*changes.added, *changes.removed, *(new for _old, new in changes.changed)]
        target_ids = {version.field_dict.get("target_article_id") for version in versions}
        headlines = dict(
            Article.objects.filter(pk__in=target_ids - {None}).values_list("pk", "title")
        )

        def name(version) -> str:
            # The card's title: its own, else its target's headline, else its address.
            fields = version.field_dict
            return (
                fields.get("title")
                or headlines.get(fields.get("target_article_id"))
                or fields.get("url")
                or version.object_repr
            )

        def detail(old, new):
            if old.field_dict["position"] != new.field_dict["position"]:
                moved = format_html(
                    "position {} → {}", old.field_dict["position"], new.field_dict["position"]
                )
            else:
                moved = ""
            other = history.changed_fields(
                old,
                new,
                {
                    "target_article_id": _("target"),
                    "url": _("address"),
                    "title": _("title"),
                    "summary": _("summary"),
                },
            )
            return format_html_join(", ", "{}", ((part,) for part in [moved, *other] if part))

        return history.rows_html(changes, name=name, detail=detail)

    def _correction_changes(self, changes: history.RowChanges):
        def detail(old, new):
            return ", ".join(
                history.changed_fields(
                    old, new, {"kind": _("kind"), "text": _("text"), "posted_at": _("time")}
                )
            )

        return history.rows_html(changes, name=lambda version: version.object_repr, detail=detail)

    def compare_view(self, request, object_id, extra_context=None):
        # reversion-compare only asks for a staff login; a diff shows the article.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return super().compare_view(request, object_id, extra_context)

    # Actions

    @admin.action(description=_("Publish now"), permissions=["publish"])
    def publish_now(self, request, queryset):
        if CONFIRMED not in request.POST:
            return self._confirm_action(
                request,
                queryset,
                action="publish_now",
                title=_("Publish these stories now?"),
                explain=_(
                    "Each story below goes live at once: a draft or scheduled story as of "
                    "now, a withdrawn one in its old place in the lists."
                ),
                button=_("Yes, publish them"),
            )
        self._act_on_each(
            request,
            queryset,
            services.article_publish_now,
            done=lambda count: ngettext(
                "%(count)d article is live now.", "%(count)d articles are live now.", count
            ),
        )

    @admin.action(description=_("Re-date to now"), permissions=["publish"])
    def redate(self, request, queryset):
        if CONFIRMED not in request.POST:
            return self._confirm_action(
                request,
                queryset,
                action="redate",
                title=_("Publish these stories as new, dated now?"),
                explain=_(
                    "Each story below goes live with now as its publish time, at the top "
                    "of the lists."
                ),
                button=_("Yes, publish them as new"),
            )
        self._act_on_each(
            request,
            queryset,
            services.article_redate,
            done=lambda count: ngettext(
                "%(count)d article is live, re-dated to now.",
                "%(count)d articles are live, re-dated to now.",
                count,
            ),
        )

    @admin.action(description=_("Withdraw"), permissions=["change"])
    def withdraw(self, request, queryset):
        if CONFIRMED not in request.POST:
            return self._confirm_action(
                request,
                queryset,
                action="withdraw",
                title=_("Withdraw these stories?"),
                explain=_(
                    "Each story below comes off the site at once: its page, the lists, the "
                    "feed and the sitemap stop showing it."
                ),
                button=_("Yes, withdraw them"),
                linkers=selectors.live_linkers(article_ids=[article.pk for article in queryset]),
            )
        self._act_on_each(
            request,
            queryset,
            services.article_withdraw,
            done=lambda count: ngettext(
                "%(count)d article withdrawn.", "%(count)d articles withdrawn.", count
            ),
            after=self._warn_about_linkers,
        )

    @admin.action(description=_("Ask for review"), permissions=["change"])
    def request_review(self, request, queryset):
        self._act_on_each(
            request,
            queryset,
            services.article_request_review,
            done=lambda count: ngettext(
                "%(count)d article is ready for review.",
                "%(count)d articles are ready for review.",
                count,
            ),
        )

    @admin.action(description=_("Publish their drafts of changes"), permissions=["publish"])
    def publish_changes(self, request, queryset):
        self._act_on_each(
            request,
            queryset.filter(pending_edit__isnull=False),
            services.article_publish_pending,
            done=lambda count: ngettext(
                "%(count)d draft of changes is live now.",
                "%(count)d drafts of changes are live now.",
                count,
            ),
            say_none=True,
        )

    def _confirm_action(self, request, articles, *, action, title, explain, button, linkers=None):
        """The page that asks before a bulk action changes what readers see, as Django's
        "delete selected" does: it lists the stories (and, given ``linkers``, the live
        stories that link to each); "Yes" sends the action again with ``CONFIRMED``,
        "No" goes back to the list as it was, with nothing changed.
        """
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "explain": explain,
            "button": button,
            "action": action,
            "confirmed": CONFIRMED,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "stories": [
                (article, linkers.get(article.pk, []) if linkers is not None else None)
                for article in articles
            ],
            "list_url": request.get_full_path(),
        }
        return TemplateResponse(request, "admin/articles/article/action_confirmation.html", context)

    def _act_on_each(self, request, articles, act, *, done, after=None, say_none=False):
        """An action's loop: ``act(article=…, user=…)`` on each article, a refusal reported
        with its story's title, then how many were done (``done(count)``, the message;
        also when none was, with ``say_none``). ``after(request, article)`` follows each
        success with the article ``act`` returned."""
        count = 0
        for article in articles:
            try:
                result = act(article=article, user=request.user)
            except ValidationError as error:
                self._report_refusal(request, article, error)
            else:
                count += 1
                if after is not None:
                    after(request, result)
        if count or say_none:
            self.message_user(
                request,
                done(count) % {"count": count},
                messages.SUCCESS if count else messages.WARNING,
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


def review_request_text(article: Article) -> str:
    """Who asked for the story to be reviewed and when, or "" when nobody has."""
    if not article.review_requested_at:
        return ""
    asked_by = article.review_requested_by
    # The newsroom's time, its zone named as the list's other times name it ("GMT", "BST").
    return _("Asked by %(user)s at %(time)s") % {
        "user": asked_by.get_username() if asked_by else _("a former user"),
        "time": date_format(timezone.localtime(article.review_requested_at), "DATETIME_FORMAT"),
    }


def _form_changes(request, form) -> bool:
    """Whether saving ``form`` (an existing story's) may change anything, its inline rows
    aside: a field differs from what the form opened with, or the button does more than
    save (ask for review, publish the draft of changes the form opened on, restore a
    version from History)."""
    if _is_restore(request) or REQUEST_REVIEW in request.POST:
        return True
    if form.pending_edit is not None and not form.saves_pending:
        return True
    return bool(set(form.changed_data) - FORM_ONLY_FIELDS)


def _compared_text(obj_compare) -> tuple[str, str]:
    """The two versions' values of a text field ("" where a version has none)."""
    return tuple(
        value if isinstance(value, str) else ""
        for value in (obj_compare.value1, obj_compare.value2)
    )


def _is_restore(request) -> bool:
    """The request is django-reversion's restore (or recover) form for an old version."""
    match = request.resolver_match
    return bool(match and match.url_name and match.url_name.endswith(("_revision", "_recover")))


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    """Old addresses of stories, topics and authors. Made by renaming a live story, a
    topic or an author; editors may add, correct or remove them here.
    """

    list_display = ["old_address", "kind", "leads_to", "created_at"]
    list_filter = ["kind"]
    search_fields = ["old_slug", "article__title", "topic__name", "author__name"]
    fields = ["kind", "old_slug", "article", "topic", "author"]
    autocomplete_fields = ["article", "topic", "author"]
    list_select_related = ["article", "topic", "author"]

    @admin.display(description=_("old address"), ordering="old_slug")
    def old_address(self, redirect: Redirect) -> str:
        return redirect.old_path

    @admin.display(description=_("leads to"))
    def leads_to(self, redirect: Redirect) -> str:
        target = redirect.target
        if target is None:
            return "—"
        return format_html("{} ({})", target, target.get_absolute_url())


@admin.register(Picture)
class PictureAdmin(admin.ModelAdmin):
    """The picture library: every uploaded picture, hero images included.

    Its three JSON endpoints serve the body editor's tools (``body-editor.js``): upload
    a picture, choose one of the library, and find a story to link to.
    """

    form = PictureForm

    class Media:
        css = {"all": ["articles/admin/body-editor.css"]}

    list_display = ["thumbnail", "alt", "credit", "dimensions", "sized_versions", "uploaded_at"]
    search_fields = ["alt", "caption", "credit", "file"]
    readonly_fields = ["preview", "dimensions", "sized_versions", "uploaded_by", "uploaded_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["file", "alt", "caption", "credit"]
        # A picture's file stays: stories show it by its address.
        return ["preview", "alt", "caption", "credit", *self.readonly_fields[1:]]

    @admin.display(description=_("picture"))
    def thumbnail(self, picture: Picture) -> str:
        return format_html(
            '<img src="{}" alt="" width="96" loading="lazy" decoding="async">',
            _thumbnail_url(picture),
        )

    @admin.display(description=_("picture"))
    def preview(self, picture: Picture) -> str:
        src = pictures.shown(picture).src
        return format_html('<img src="{}" alt="{}" class="picture-preview">', src, picture.alt)

    @admin.display(description=_("size"))
    def dimensions(self, picture: Picture) -> str:
        return f"{picture.width} x {picture.height}" if picture.width else "—"

    @admin.display(description=_("sized versions"))
    def sized_versions(self, picture: Picture) -> str:
        if picture.sizes_error:
            return format_html('<strong class="errornote">{}</strong>', picture.sizes_error)
        if picture.sized_at is None:
            return _("being made; pages show the original meanwhile")
        widths = sorted({size["width"] for size in picture.sizes})
        return ", ".join(f"{width} px" for width in widths)

    def save_model(self, request, obj, form, change):
        if change:
            obj.full_clean()
            obj.save()
        else:
            services.picture_add(picture=obj, user=request.user)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="articles_picture_upload"),
            path("library/", view(self.library_view), name="articles_picture_library"),
            path("stories/", view(self.stories_view), name="articles_picture_stories"),
            *super().get_urls(),
        ]

    def upload_view(self, request):
        """Upload a picture from the body editor: its data as JSON, or each field's
        errors (``{"errors": {"file": [...], "alt": [...]}}``, status 400)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PictureForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                picture = services.picture_add(picture=form.save(commit=False), user=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return JsonResponse(_picture_json(picture), status=201)
        errors = {
            field: [error["message"] for error in field_errors]
            for field, field_errors in form.errors.get_json_data().items()
        }
        return JsonResponse({"errors": errors}, status=400)

    def library_view(self, request):
        """The newest pictures of the library, or those whose texts match ``q``."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        found = selectors.library_pictures(query=request.GET.get("q", ""))
        return JsonResponse({"pictures": [_picture_json(picture) for picture in found]})

    def stories_view(self, request):
        """Stories whose headline or slug matches ``q``, for the body editor's story link."""
        if not request.user.has_perm("articles.view_article"):
            raise PermissionDenied
        choices = selectors.story_choices(query=request.GET.get("q", ""))
        return JsonResponse({"stories": [vars(choice) for choice in choices]})


def _thumbnail_url(picture: Picture) -> str:
    smallest = [size for size in picture.sizes if size["type"] == "image/jpeg"]
    return default_storage.url(smallest[0]["name"]) if smallest else picture.file.url


def _picture_json(picture: Picture) -> dict:
    """What the body editor stores of a picture: the original's address and size (the
    page shows its sized versions), and the texts it offers for this use."""
    return {
        "id": picture.pk,
        "src": picture.file.url,
        "thumbnail": _thumbnail_url(picture),
        "width": picture.width,
        "height": picture.height,
        "alt": picture.alt,
        "caption": picture.caption,
        "credit": picture.credit,
    }
