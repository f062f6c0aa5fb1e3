import copy

from adminsortable2.admin import CustomInlineFormSetMixin
from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet, construct_instance
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from . import pictures, services
from .models import (
    Article,
    Author,
    Correction,
    PendingEdit,
    Picture,
    Redirect,
    RelatedLink,
    Topic,
)

IMPACT_SCORE_RANGE = _("The impact score is a whole number from 0 to 100.")
# The name of the change form's "Save draft of changes" button, sent with the form.
SAVE_PENDING = "_save_pending"
# The change form's "Save and ask for review" button: on a live story it too keeps the
# form as the draft of changes (``sends_draft_of_changes``).
REQUEST_REVIEW = "_request_review"


def sends_draft_of_changes(data, *, live: bool) -> bool:
    """The change form's ``data`` was sent to keep it as the story's draft of changes:
    with "Save draft of changes", or with "Save and ask for review" on a story that was
    ``live`` when the form was opened.
    """
    return SAVE_PENDING in data or (live and REQUEST_REVIEW in data)


class TakeOverAddressMixin(forms.Form):
    """A slug that is another story's (or topic's) old address needs the editor's say-so.

    The form refuses it next to the slug and only then shows the
    ``take_over_address`` checkbox (hidden until needed); ticked, the save removes
    the redirect (``services.article_save`` / ``services.topic_save``).
    """

    address_kind: str

    take_over_address = forms.BooleanField(
        required=False,
        widget=forms.HiddenInput,
        label=_("Take over this address; the redirect is removed"),
    )

    def clean(self):
        cleaned_data = super().clean()
        slug = cleaned_data.get("slug")
        redirect = services.address_redirect(kind=self.address_kind, slug=slug, owner=self.instance)
        if redirect is not None and not cleaned_data.get("take_over_address"):
            self.fields["take_over_address"].widget = forms.CheckboxInput()
            self.add_error("slug", address_taken_error(redirect))
        return cleaned_data


def address_taken_error(redirect: Redirect) -> ValidationError:
    return ValidationError(
        _(
            "%(path)s is an old address of “%(target)s”: readers who follow it are sent "
            "there. To use it here, tick “Take over this address” below and save again; "
            "that redirect is then removed."
        ),
        code="address_taken",
        params={"path": redirect.old_path, "target": redirect.target},
    )


class ArticleAdminForm(TakeOverAddressMixin, forms.ModelForm):
    """The editors' article form, with edit-conflict protection and the publishing rule.

    ``opened_version`` carries the article's version from the moment the form
    was opened. A form sent after someone else saved the article is refused with
    the rest of its errors; the admin saves through ``services.article_save``,
    which holds the same rule under the row lock. Likewise a publishing change
    (``services.publishing_field``) by an ``editor`` who may not publish is
    refused on the field concerned, with everything typed still in the form.

    When the article has a draft of changes (``pending_edit``, set by the admin), the
    form opens on the draft's text rather than the live one. A form sent with the
    "Save draft of changes" button (``SAVE_PENDING``) may change only what a draft
    holds. ``for_saving`` is off for a preview, which saves nothing: neither the
    edit-conflict rule nor the publishing rule applies to it.

    With the review step on, an ``editor`` who may not publish cannot change what
    readers see of a live story (``services.article_check_readers_change``): such a
    save is refused above the form. So is restoring an old version over a story that
    was live (``restoring``, the story as it was before the restore, set by the admin),
    unless the version takes it off the site.
    """

    address_kind = Redirect.Kind.ARTICLE
    pending_edit: PendingEdit | None = None
    restoring: Article | None = None
    for_saving = True

    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Who is filling in the form; the admin sets it (``ArticleAdmin.get_form``).
    editor = None

    class Meta:
        model = Article
        fields = [
            "title",
            "slug",
            "standfirst",
            "body",
            "why_it_matters",
            "status",
            "publish_at",
            "unpublish_at",
            "pinned_until",
            "impact_score",
            "topics",
            "seo_description",
            "hero_image",
            "hero_image_alt",
            "hero_image_caption",
            "hero_image_credit",
        ]
        error_messages = {
            "impact_score": {"min_value": IMPACT_SCORE_RANGE, "max_value": IMPACT_SCORE_RANGE}
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            # The admin renders help texts as HTML; "<slug>" would vanish.
            self.fields["slug"].help_text = escape(self.fields["slug"].help_text)
        for name in ("publish_at", "unpublish_at", "pinned_until"):
            if name in self.fields:
                self.fields[name].help_text = _("%(help)s Enter it in %(zone)s time.") % {
                    "help": Article._meta.get_field(name).help_text,
                    "zone": settings.TIME_ZONE,
                }
        if self.instance.pk:
            self.fields["opened_version"].initial = self.instance.version
        # Whether the story was live as the form was opened (the instance changes as the
        # form is cleaned).
        self.opened_live = bool(self.instance.pk) and self.instance.is_published()
        if self.pending_edit is not None:
            pending = self.pending_edit
            self.initial.update(
                {
                    name: getattr(pending, PendingEdit._meta.get_field(name).attname)
                    for name in PendingEdit.FIELDS
                    if name in self.fields
                }
            )
            if "topics" in self.fields:
                self.initial["topics"] = list(pending.topics.all())

    @property
    def saves_pending(self) -> bool:
        """Sent to be kept as the draft of changes (``sends_draft_of_changes``)."""
        return self.is_bound and sends_draft_of_changes(self.data, live=self.opened_live)

    def clean(self):
        cleaned_data = super().clean()
        self._keep_fractions_of_seconds(cleaned_data)
        if self.instance.pk and self.for_saving:
            try:
                services.article_check_edit(
                    article=self.instance, opened_version=cleaned_data.get("opened_version")
                )
            except services.EditConflict as conflict:
                raise edit_conflict_error(conflict) from conflict
        if not self._check_publishing(cleaned_data):
            self._check_readers_change(cleaned_data)
        self._check_take_down_time(cleaned_data)
        self._check_pin_time(cleaned_data)
        if self.instance.pk and self.saves_pending:
            self._refuse_what_a_draft_cannot_hold()
        return cleaned_data

    def _keep_fractions_of_seconds(self, cleaned_data) -> None:
        """A time sent back as it was shown keeps its saved fraction of a second.

        The form shows times to the second; a story published by a service (now(),
        with microseconds) would otherwise move by a fraction of a second at its next
        save, which counts as a new place in the lists: a headline fix would make
        every list page and every page suggesting stories stale, here and at the edge.
        """
        if not self.instance.pk:
            return
        for name in ("publish_at", "unpublish_at", "pinned_until"):
            typed, saved = cleaned_data.get(name), getattr(self.instance, name, None)
            if typed is not None and saved is not None and typed == saved.replace(microsecond=0):
                cleaned_data[name] = saved

    def _check_publishing(self, cleaned_data) -> bool:
        """Refuse a publishing change by an editor who may not publish; True if refused."""
        if "status" not in cleaned_data or self.editor is None or not self.for_saving:
            return False
        # A restore has rewritten the saved row: the story before it is what changes.
        saved = self.restoring or self.instance
        before = services.Schedule.of(saved) if self.instance.pk else None
        after = services.Schedule(
            cleaned_data["status"],
            cleaned_data.get("publish_at", self.instance.publish_at),
            cleaned_data.get("unpublish_at", self.instance.unpublish_at),
        )
        try:
            services.article_check_publish(user=self.editor, before=before, after=after)
        except ValidationError as refusal:
            self.add_error(None, refusal)
            return True
        return False

    def _check_readers_change(self, cleaned_data) -> None:
        """Refuse a save that readers would see at once by an editor who may not publish."""
        if (
            not self.instance.pk
            or self.editor is None
            or not self.for_saving
            or self.saves_pending
            or "status" not in cleaned_data
        ):
            return
        # Not cleaned yet, the instance is the story as saved; a copy takes the form's
        # values. A restore has rewritten the saved row: the story before it counts,
        # and any restore that keeps it live changes it.
        edited = construct_instance(self, copy.copy(self.instance))
        try:
            services.article_check_readers_change(
                user=self.editor,
                live=self.restoring or self.instance,
                edited=edited,
                topics=cleaned_data.get("topics"),
                rows_changed=self.restoring is not None,
            )
        except ValidationError as refusal:
            self.add_error(None, refusal)

    def _check_take_down_time(self, cleaned_data) -> None:
        """A take-down time typed in the past would take a live story down at once."""
        unpublish_at = cleaned_data.get("unpublish_at")
        if (
            "unpublish_at" in self.changed_data
            and unpublish_at is not None
            and unpublish_at <= timezone.now()
            and cleaned_data.get("status") == Article.Status.PUBLISHED
        ):
            self.add_error(
                "unpublish_at",
                ValidationError(
                    _(
                        "This take-down time has already passed. Choose a later time, or "
                        "withdraw the story to take it down now."
                    ),
                    code="unpublish_in_past",
                ),
            )

    def _check_pin_time(self, cleaned_data) -> None:
        """A pin typed to end in the past would pin nothing: say so, rather than save it."""
        pinned_until = cleaned_data.get("pinned_until")
        if (
            "pinned_until" in self.changed_data
            and pinned_until is not None
            and pinned_until <= timezone.now()
        ):
            self.add_error(
                "pinned_until",
                ValidationError(
                    _(
                        "This time has already passed, so the story would not be pinned. "
                        "Choose a later time, or empty the field to unpin it."
                    ),
                    code="pin_in_past",
                ),
            )

    def _refuse_what_a_draft_cannot_hold(self) -> None:
        """Next to each field: what a draft of changes does not keep (the live story has it)."""
        if not self.instance.is_published():
            try:
                # Nothing differs from itself: only "the story is not live" can be said.
                services.article_check_pending(article=self.instance, live=self.instance)
            except ValidationError as error:
                self.add_error(None, error)
            return
        live_only = {field.name for field in services.live_only_fields()}
        for name in self.changed_data:
            if name in live_only:
                self.add_error(name, services.live_only_error(self.fields[name].label))


def edit_conflict_error(conflict: services.EditConflict) -> ValidationError:
    """What an editor whose save was refused is told: who saved, and when."""
    who = (
        _("Someone else (%(user)s)") % {"user": conflict.saved_by}
        if conflict.saved_by
        else _("Someone else")
    )
    return ValidationError(
        _(
            "%(who)s saved this article at %(time)s (%(zone)s time) after you opened it; "
            "your changes were not saved. Copy any text you want to keep, then reload "
            "the page to edit the latest version."
        ),
        code="edit_conflict",
        params={
            "who": who,
            "time": timezone.localtime(conflict.saved_at).strftime("%H:%M"),
            "zone": settings.TIME_ZONE,
        },
    )


class RelatedLinkForm(forms.ModelForm):
    # Declared to say which scheme a typed "example.org/page" gets (Django 6's default).
    url = forms.URLField(
        label=RelatedLink._meta.get_field("url").verbose_name,
        max_length=500,
        required=False,
        assume_scheme="https",
        widget=AdminURLFieldWidget,
    )

    class Meta:
        model = RelatedLink
        fields = ["position", "target_article", "url", "title", "summary"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 2, "cols": 40})}
        help_texts = {"position": _("Cards show lowest first. Empty: after the others.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["position"].required = False
        if not self.instance.pk:
            # A new row starts empty rather than at 0, which would put it first.
            self.fields["position"].initial = None


class LiveOnlyFormSet(BaseInlineFormSet):
    """Rows that belong to the live story, not to a draft of changes: a form sent to be
    kept as a draft of changes that changes them is refused, with ``live_only_message``.

    Readers see a change to them at once, so on a live story an ``editor`` who may not
    publish cannot make one (``services.article_check_readers_change``). The admin sets
    ``editor`` and ``opened_as`` (the story as the form was opened).
    """

    live_only_message: str
    readers_see_message: str
    editor = None
    opened_as: Article | None = None

    def changes_rows(self) -> bool:
        """Whether the rows as sent differ from the saved ones in what readers see."""
        return self.has_changed()

    def clean(self) -> None:
        super().clean()
        if not self.changes_rows():
            return
        opened_live = self.opened_as is not None and self.opened_as.is_published()
        if sends_draft_of_changes(self.data, live=opened_live):
            raise ValidationError(self.live_only_message, code="live_only")
        if services.changes_what_readers_see(live=self.opened_as, edited=self.instance):
            # The story's own fields change too: the form refuses (or allows) the whole
            # save, in one message.
            return
        try:
            # By now the parent form has put its values on ``self.instance``.
            services.article_check_readers_change(
                user=self.editor, live=self.opened_as, edited=self.instance, rows_changed=True
            )
        except ValidationError as refusal:
            raise ValidationError(self.readers_see_message, code=refusal.code) from refusal


class RelatedLinkFormSet(LiveOnlyFormSet):
    """Checks the rules that span rows, which single-row validation cannot see."""

    live_only_message = _(
        "Related links are not part of a draft of changes: undo the changes "
        "to the links, or publish them with “Save and publish”."
    )
    readers_see_message = _(
        "Readers would see these changes to the related links at once, and only chief "
        "editors (the “Can publish articles” permission) may publish. Undo them and ask "
        "a chief editor to make them."
    )

    def changes_rows(self) -> bool:
        # A link dragged away and dropped back gets new position numbers in the same
        # order: no change for readers, so no refusal of a draft of changes for it.
        if self.opened_as is None or not self.has_changed():
            return self.has_changed()
        kept = []
        for form in self.forms:
            if self._should_delete_form(form):
                if form.instance.pk:
                    return True
                continue
            if set(form.changed_data) - {"position"}:
                return True
            if form.instance.pk:
                kept.append(form)
        if not all(form.is_valid() for form in kept):
            return True
        kept.sort(key=lambda form: (form.cleaned_data.get("position") or 0, form.instance.pk))
        saved = self.opened_as.related_links.order_by("position", "pk").values_list("pk", flat=True)
        return [form.instance.pk for form in kept] != list(saved)

    def clean(self) -> None:
        super().clean()
        # The rows that will exist after saving: unchanged extra rows have no cleaned_data.
        kept = [
            form
            for form in self.forms
            if form.is_valid() and form.cleaned_data and not self._should_delete_form(form)
        ]
        self._refuse_duplicates(kept)
        self._place_unpositioned(kept)

    def _refuse_duplicates(self, forms_kept) -> None:
        seen_targets, seen_urls = set(), set()
        for form in forms_kept:
            target = form.cleaned_data.get("target_article")
            url = form.cleaned_data.get("url")
            if target is not None:
                if target.pk in seen_targets:
                    form.add_error(
                        "target_article",
                        ValidationError(
                            _("%(title)s is already in this list of related links."),
                            code="duplicate_target",
                            params={"title": target.title},
                        ),
                    )
                seen_targets.add(target.pk)
            if url:
                if url in seen_urls:
                    form.add_error(
                        "url",
                        ValidationError(
                            _("This URL is already in this list of related links."),
                            code="duplicate_url",
                        ),
                    )
                seen_urls.add(url)

    def _place_unpositioned(self, forms_kept) -> None:
        """Rows left without a position go after the others, in the order shown."""
        positions = [
            form.cleaned_data["position"]
            for form in forms_kept
            if form.cleaned_data.get("position") is not None
        ]
        next_position = max(positions, default=0) + 1
        for form in forms_kept:
            if form.cleaned_data.get("position") is None:
                form.cleaned_data["position"] = next_position
                form.instance.position = next_position
                next_position += 1


class TopicAdminForm(TakeOverAddressMixin, forms.ModelForm):
    address_kind = Redirect.Kind.TOPIC

    class Meta:
        model = Topic
        fields = ["name", "slug", "description"]


class AuthorAdminForm(TakeOverAddressMixin, forms.ModelForm):
    address_kind = Redirect.Kind.AUTHOR

    class Meta:
        model = Author
        fields = ["name", "slug", "role", "bio", "photo", "photo_alt"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4, "cols": 60})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            # The admin renders help texts as HTML; "<slug>" would vanish.
            self.fields["slug"].help_text = escape(self.fields["slug"].help_text)


class BylineFormSet(CustomInlineFormSetMixin, LiveOnlyFormSet):
    """The story's authors, ordered by drag and drop (django-admin-sortable2 numbers the
    rows' hidden positions). They belong to the live story, like its related links.
    """

    live_only_message = _(
        "Authors are not part of a draft of changes: readers see a byline change at once. "
        "Undo the changes to the authors, or publish them with “Save and publish”."
    )
    readers_see_message = _(
        "Readers would see this byline change at once, and only chief editors (the “Can "
        "publish articles” permission) may publish. Undo it and ask a chief editor to make it."
    )

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            # A table row's tick box has only its column's heading, which names no row.
            form.fields["DELETE"].widget.attrs["aria-label"] = _(
                "Remove this author from the byline"
            )

    def byline(self) -> list[Author]:
        """The authors the rows name, in the order they will be saved."""
        kept = [
            form
            for form in self.forms
            if form.is_valid()
            and form.cleaned_data.get("author") is not None
            and not self._should_delete_form(form)
        ]
        # A row without a position goes after the others, as it is saved (``save_new``).
        kept.sort(
            key=lambda form: (
                not form.cleaned_data.get("position"),
                form.cleaned_data.get("position") or 0,
            )
        )
        return [form.cleaned_data["author"] for form in kept]

    def changes_rows(self) -> bool:
        # Renumbered positions that keep the order are no change for readers.
        if self.opened_as is None:
            return self.has_changed()
        saved = list(self.opened_as.bylines.values_list("author_id", flat=True))
        return [author.pk for author in self.byline()] != saved


class CorrectionFormSet(LiveOnlyFormSet):
    live_only_message = _(
        "Corrections and updates are not part of a draft of changes: readers see them "
        "at once. Undo the changes to them, or publish with “Save and publish”."
    )
    readers_see_message = _(
        "Readers would see this correction or update at once, so on a live story only "
        "chief editors (the “Can publish articles” permission) add, change or remove "
        "them. Undo it here and ask a chief editor to add it."
    )


class CorrectionForm(forms.ModelForm):
    class Meta:
        model = Correction
        fields = ["kind", "posted_at", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["posted_at"].help_text = _("%(help)s In %(zone)s time.") % {
            "help": Correction._meta.get_field("posted_at").help_text,
            "zone": settings.TIME_ZONE,
        }


class PictureForm(forms.ModelForm):
    """A picture for the library: the admin's form and the body editor's upload.

    The file is checked as the library takes it (``pictures.check_upload``), so what
    is wrong with it is said next to it, with the alt text and caption kept.
    """

    class Meta:
        model = Picture
        fields = ["file", "alt", "caption", "credit"]
        error_messages = {
            "alt": {"required": Picture._meta.get_field("alt").error_messages["blank"]}
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "file" in self.fields:
            self.fields["file"].help_text = _(
                "JPEG, PNG or WebP, up to %(mb)s MB and %(side)s pixels on its longer side."
            ) % {"mb": settings.PICTURE_MAX_UPLOAD_MB, "side": pictures.MAX_SIDE}

    def clean_file(self):
        file = self.cleaned_data.get("file")
        if file and "file" in self.changed_data:
            pictures.check_upload(file)
        return file
