"""What the History compare view shows an editor: text as readers read it, word by word.

django-reversion-compare diffs a field's stored value as one string, which for the
body is a single line of HTML. Here the body becomes the text readers see, in its
paragraphs (``readable_text``), and two versions are compared word by word
(``word_diff``): removed words in ``<del>``, added ones in ``<ins>``, and a
paragraph break that came or went as a ``¶`` marked the same way.
"""

import difflib
import html
import re
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.utils.html import escape, format_html, format_html_join, strip_tags
from django.utils.safestring import SafeString, mark_safe

# Where a paragraph ends in the body's HTML: the blocks the editor makes.
BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|blockquote|pre|ul|ol)\s*>|<br\s*/?>|<hr\s*/?>", re.I)
PARAGRAPH = "\n"
# A word with the space after it, or a paragraph break.
TOKEN = re.compile(r"\n|[^\s]+[^\S\n]*")


def readable_text(body: str) -> str:
    """The body's text as readers read it: one line per paragraph, no markup."""
    text = html.unescape(strip_tags(BLOCK_END.sub(PARAGRAPH, body or "")))
    paragraphs = (" ".join(line.split()) for line in text.split(PARAGRAPH))
    return PARAGRAPH.join(paragraph for paragraph in paragraphs if paragraph)


def word_diff(old: str, new: str) -> SafeString:
    """``old`` and ``new`` (plain text, one line per paragraph) as one text with what was
    removed in ``<del>`` and what was added in ``<ins>``, in paragraphs."""
    before, after = TOKEN.findall(old or ""), TOKEN.findall(new or "")
    # Compared without the space after each word, so a word that moved to the end
    # of a paragraph still counts as the same word.
    matcher = difflib.SequenceMatcher(
        None, [token.strip() or token for token in before], [t.strip() or t for t in after]
    )
    paragraphs: list[list[str]] = [[]]

    def add(tokens: list[str], mark: str | None) -> None:
        run: list[str] = []

        def flush():
            if run:
                text = "".join(run)
                words = text.rstrip()
                # The space after the last word stays outside the mark.
                marked = f"<{mark}>{escape(words)}</{mark}>{text[len(words) :]}"
                paragraphs[-1].append(marked if mark else escape(text))
                run.clear()

        for token in tokens:
            if token != PARAGRAPH:
                run.append(token)
                continue
            flush()
            if mark == "del":
                # A paragraph break that went: the two paragraphs run on, marked.
                paragraphs[-1].append("<del>¶</del> ")
            else:
                if mark == "ins":
                    paragraphs[-1].append("<ins>¶</ins>")
                paragraphs.append([])
        flush()

    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "equal":
            add(after[j1:j2], None)
        else:
            add(before[i1:i2], "del")
            add(after[j1:j2], "ins")
    return format_html_join(
        "",
        '<p class="word-diff">{}</p>',
        ((mark_safe("".join(parts).strip()),) for parts in paragraphs if parts),  # noqa: S308 - escaped above
    )


def body_diff(old_body: str, new_body: str) -> SafeString:
    """Two bodies (sanitized HTML) compared as the text readers read."""
    return word_diff(readable_text(old_body), readable_text(new_body))


def text_diff(old: str, new: str) -> SafeString:
    """Two plain-text fields (headline, standfirst) compared word by word."""
    return word_diff(
        PARAGRAPH.join(" ".join(line.split()) for line in (old or "").splitlines()),
        PARAGRAPH.join(" ".join(line.split()) for line in (new or "").splitlines()),
    )


def rows_of(version, model) -> dict[str, object]:
    """The versions of ``model`` rows (related links, corrections) that the revision of
    ``version`` (an article's) holds for that article, by their ids.

    Read from the revision alone: django-reversion-compare finds an article's rows
    through the rows the database has now, so a compare of two old versions showed
    links deleted since as removed, and named them by their stored text.
    """
    content_type = ContentType.objects.get_for_model(model)
    owner = int(version.object_id)
    return {
        row.object_id: row
        for row in version.revision.version_set.filter(content_type=content_type)
        if row.field_dict.get("article_id") == owner
    }


@dataclass(frozen=True)
class RowChanges:
    """How an article's rows of one kind differ between two of its versions."""

    changed: list  # (old, new) version pairs of a row in both, with other values
    added: list
    removed: list

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.removed)


def row_changes(old_rows: dict, new_rows: dict) -> RowChanges:
    return RowChanges(
        changed=[
            (old_rows[key], new_rows[key])
            for key in sorted(old_rows.keys() & new_rows.keys())
            if old_rows[key].serialized_data != new_rows[key].serialized_data
        ],
        added=[new_rows[key] for key in sorted(new_rows.keys() - old_rows.keys())],
        removed=[old_rows[key] for key in sorted(old_rows.keys() - new_rows.keys())],
    )


def changed_fields(old, new, labels: dict[str, str]) -> list[str]:
    """The ``labels`` (field name: label) of the fields whose values differ."""
    return [
        label
        for name, label in labels.items()
        if old.field_dict.get(name) != new.field_dict.get(name)
    ]


def rows_html(changes: RowChanges, *, name, detail) -> SafeString:
    """A list of ``changes``, each row called by ``name(version)``; a changed row says
    what changed with ``detail(old, new)``."""
    lines = [
        format_html("<li>“{}”: {}</li>", name(new), detail(old, new))
        for old, new in changes.changed
    ]
    lines += [format_html("<li><ins>+ “{}”</ins></li>", name(row)) for row in changes.added]
    lines += [format_html("<li><del>- “{}”</del></li>", name(row)) for row in changes.removed]
    return format_html('<ul class="row-changes">{}</ul>', mark_safe("".join(lines)))  # noqa: S308 - each line is format_html
