// The body editor's own tools, loaded by django-prose-editor's "configurable" preset
// (DJANGO_PROSE_EDITOR_EXTENSIONS in the settings, BODY_EDITOR_EXTENSIONS in
// articles/models.py):
//
// - NewsroomPicture: a picture of the library in a <figure>, with its alt text
//   (required), caption and credit; uploaded or chosen in a dialog.
// - StoryLink: the editor's links, which also link to one of our stories chosen in a
//   search box, remembered by its id (data-article) so the page follows the story
//   to any new address.
// - BodyEditorAttributes: the browser's spell-checking on, in the newsroom's language.
//
// What they write is exactly what articles/sanitize.py keeps. No inline script or
// style: the Content-Security-Policy allows neither.

import {
  Extension,
  Link,
  Node,
  Plugin,
  crel,
  gettext,
} from "django-prose-editor/editor"

const csrfToken = () =>
  document.querySelector("input[name=csrfmiddlewaretoken]")?.value || ""

// A modal dialog in the editor, closed with Escape or Cancel. ``build(body, close)``
// fills it; the returned promise resolves with what ``close`` was given (null on cancel).
function openDialog(editor, { title, build }) {
  return new Promise((resolve) => {
    let result = null
    const body = crel("div", { className: "newsroom-dialog-body" })
    const heading = crel("h3", {
      className: "prose-editor-dialog-title",
      textContent: title,
    })
    const dialog = crel(
      "dialog",
      { className: "prose-editor-dialog newsroom-dialog", "aria-label": title },
      [heading, body],
    )
    const close = (value) => {
      result = value
      dialog.close()
    }
    dialog.addEventListener("close", () => {
      dialog.remove()
      resolve(result)
    })
    build(body, close)
    editor.view.dom.parentElement.append(dialog)
    dialog.showModal()
  })
}

let fieldCount = 0

// A labelled field with a place for its error right under it.
function field(label, input, help = "") {
  const id = `newsroom-field-${++fieldCount}`
  input.id = id
  const error = crel("p", {
    className: "newsroom-dialog-error",
    id: `${id}-error`,
    hidden: true,
  })
  error.setAttribute("role", "alert")
  input.setAttribute("aria-describedby", `${id}-error`)
  const parts = [crel("label", { htmlFor: id, textContent: label }), input]
  if (help) parts.push(crel("span", { className: "prose-editor-help", textContent: help }))
  parts.push(error)
  const wrapper = crel("div", { className: "prose-editor-dialog-field" }, parts)
  return {
    wrapper,
    input,
    showError(message) {
      error.textContent = message || ""
      error.hidden = !message
      input.setAttribute("aria-invalid", message ? "true" : "false")
    },
  }
}

function buttonRow(...buttons) {
  return crel("div", { className: "prose-editor-dialog-buttons" }, buttons)
}

function button(text, className = "") {
  return crel("button", { type: "button", textContent: text, className })
}

async function getJSON(url, params) {
  const query = new URLSearchParams(params).toString()
  const response = await fetch(`${url}?${query}`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  })
  if (!response.ok) throw new Error(`${response.status}`)
  return response.json()
}

// Calls ``search(text)`` as the editor types, a moment after the last key.
function searchAsYouType(input, search) {
  let timer = null
  input.addEventListener("input", () => {
    clearTimeout(timer)
    timer = setTimeout(() => search(input.value), 250)
  })
  search("")
}

// Pictures -------------------------------------------------------------------------

function pictureDialog(editor, options, attrs) {
  const editing = Boolean(attrs)
  return openDialog(editor, {
    title: editing ? gettext("Edit picture") : gettext("Insert a picture"),
    build(body, close) {
      let chosen = editing ? { ...attrs } : null
      const file = field(
        gettext("Upload a picture"),
        crel("input", { type: "file", name: "file", accept: "image/jpeg,image/png,image/webp" }),
        gettext("JPEG, PNG or WebP."),
      )
      const search = field(
        gettext("…or choose one already uploaded"),
        crel("input", { type: "search", name: "q", placeholder: gettext("Search alt text, caption, credit") }),
      )
      const results = crel("div", { className: "newsroom-picture-choices" })
      results.setAttribute("role", "listbox")
      results.setAttribute("aria-label", gettext("Uploaded pictures"))
      const alt = field(
        gettext("Alt text (required)"),
        crel("input", { type: "text", name: "alt", maxLength: 250 }),
        gettext("What the picture shows, for readers who cannot see it."),
      )
      const caption = field(
        gettext("Caption"),
        crel("input", { type: "text", name: "caption", maxLength: 300 }),
      )
      const credit = field(
        gettext("Credit"),
        crel("input", { type: "text", name: "credit", maxLength: 150 }),
        gettext("e.g. Photo: Ana Ruiz"),
      )
      const general = crel("p", { className: "newsroom-dialog-error", hidden: true })
      general.setAttribute("role", "alert")
      const submit = button(editing ? gettext("Update") : gettext("Insert picture"), "newsroom-dialog-submit")
      const cancel = button(gettext("Cancel"))
      cancel.addEventListener("click", () => close(null))

      if (editing) {
        alt.input.value = attrs.alt || ""
        caption.input.value = attrs.caption || ""
        credit.input.value = attrs.credit || ""
        body.append(alt.wrapper, caption.wrapper, credit.wrapper, general, buttonRow(submit, cancel))
      } else {
        body.append(file.wrapper, search.wrapper, results, alt.wrapper, caption.wrapper, credit.wrapper, general, buttonRow(submit, cancel))
      }

      const fill = (picture) => {
        // The library's texts are a start; what is typed here is for this story.
        if (!alt.input.value) alt.input.value = picture.alt || ""
        if (!caption.input.value) caption.input.value = picture.caption || ""
        if (!credit.input.value) credit.input.value = picture.credit || ""
      }

      file.input.addEventListener("change", () => {
        chosen = null
        for (const choice of results.querySelectorAll("[aria-selected=true]"))
          choice.setAttribute("aria-selected", "false")
        file.showError("")
      })

      if (!editing) {
        searchAsYouType(search.input, async (text) => {
          try {
            const data = await getJSON(options.libraryUrl, { q: text })
            results.replaceChildren(
              ...data.pictures.map((picture) => {
                const choice = crel("button", { type: "button", className: "newsroom-picture-choice" }, [
                  crel("img", { src: picture.thumbnail, alt: "", width: 96, loading: "lazy" }),
                  crel("span", { textContent: picture.alt }),
                ])
                choice.setAttribute("role", "option")
                choice.setAttribute("aria-selected", "false")
                choice.addEventListener("click", () => {
                  for (const other of results.querySelectorAll("[aria-selected=true]"))
                    other.setAttribute("aria-selected", "false")
                  choice.setAttribute("aria-selected", "true")
                  chosen = { ...picture, picture: String(picture.id) }
                  file.input.value = ""
                  file.showError("")
                  fill(picture)
                })
                return choice
              }),
            )
            if (!data.pictures.length)
              results.append(crel("p", { textContent: gettext("No uploaded picture matches.") }))
          } catch {
            results.replaceChildren(crel("p", { textContent: gettext("The library could not be searched; try again.") }))
          }
        })
      }

      const showErrors = (errors) => {
        file.showError((errors.file || []).join(" "))
        alt.showError((errors.alt || []).join(" "))
        caption.showError((errors.caption || []).join(" "))
        credit.showError((errors.credit || []).join(" "))
        const other = (errors.__all__ || []).join(" ")
        general.textContent = other
        general.hidden = !other
      }

      const texts = () => ({
        alt: alt.input.value.trim(),
        caption: caption.input.value.trim(),
        credit: credit.input.value.trim(),
      })

      submit.addEventListener("click", async () => {
        const typed = texts()
        const errors = {}
        if (!typed.alt)
          errors.alt = [gettext("Describe the picture for readers who cannot see it (alt text).")]
        if (!editing && !chosen && !file.input.files.length)
          errors.file = [gettext("Choose a picture to upload, or one already uploaded.")]
        showErrors(errors)
        if (Object.keys(errors).length) {
          ;(errors.file ? file.input : alt.input).focus()
          return
        }
        if (editing || chosen) {
          close({ ...chosen, ...typed })
          return
        }
        const data = new FormData()
        data.append("file", file.input.files[0])
        for (const [name, value] of Object.entries(typed)) data.append(name, value)
        submit.disabled = true
        submit.textContent = gettext("Uploading…")
        try {
          const response = await fetch(options.uploadUrl, {
            method: "POST",
            body: data,
            credentials: "same-origin",
            headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
          })
          const answer = await response.json().catch(() => ({}))
          if (response.ok) {
            close({ ...answer, picture: String(answer.id), ...typed })
            return
          }
          showErrors(answer.errors || { __all__: [gettext("The upload failed; try again.")] })
        } catch {
          showErrors({ __all__: [gettext("The upload failed; check the connection and try again.")] })
        } finally {
          submit.disabled = false
          submit.textContent = gettext("Insert picture")
        }
      })
    },
  })
}

export const NewsroomPicture = Node.create({
  name: "newsroomPicture",
  group: "block",
  atom: true,
  draggable: true,
  selectable: true,

  addOptions() {
    return { uploadUrl: "", libraryUrl: "" }
  },

  addAttributes() {
    return {
      picture: { default: null },
      src: { default: null },
      alt: { default: "" },
      width: { default: null },
      height: { default: null },
      caption: { default: "" },
      credit: { default: "" },
    }
  },

  parseHTML() {
    return [
      {
        tag: "figure",
        getAttrs(dom) {
          const img = dom.querySelector("img[data-picture]")
          if (!img) return false
          const figcaption = dom.querySelector("figcaption")
          let caption = ""
          let credit = ""
          if (figcaption) {
            const copy = figcaption.cloneNode(true)
            const creditElement = copy.querySelector(".credit")
            if (creditElement) {
              credit = creditElement.textContent.trim()
              creditElement.remove()
            }
            caption = copy.textContent.trim()
          }
          return {
            picture: img.getAttribute("data-picture"),
            src: img.getAttribute("src"),
            alt: img.getAttribute("alt") || "",
            width: img.getAttribute("width"),
            height: img.getAttribute("height"),
            caption,
            credit,
          }
        },
      },
    ]
  },

  renderHTML({ node }) {
    const { picture, src, alt, width, height, caption, credit } = node.attrs
    const img = ["img", { src, alt, width, height, "data-picture": picture }]
    const words = []
    if (caption) words.push(caption)
    if (caption && credit) words.push(" ")
    if (credit) words.push(["span", { class: "credit" }, credit])
    return words.length
      ? ["figure", {}, img, ["figcaption", {}, ...words]]
      : ["figure", {}, img]
  },

  addCommands() {
    return {
      insertNewsroomPicture:
        (attrs) =>
        ({ commands }) =>
          commands.insertContent({ type: this.name, attrs }),
    }
  },

  addMenuItems({ buttons, menu }) {
    const options = this.options
    const name = this.name
    menu.defineItem({
      name: "newsroomPicture",
      groups: "nodes",
      button: buttons.material("add_photo_alternate", gettext("Insert or edit a picture")),
      active: (editor) => editor.isActive(name),
      command(editor) {
        const editing = editor.isActive(name) ? editor.getAttributes(name) : null
        pictureDialog(editor, options, editing).then((attrs) => {
          if (!attrs) return
          const values = {
            picture: attrs.picture,
            src: attrs.src,
            width: attrs.width,
            height: attrs.height,
            alt: attrs.alt,
            caption: attrs.caption,
            credit: attrs.credit,
          }
          if (editing) editor.chain().focus().updateAttributes(name, values).run()
          else editor.chain().focus().insertNewsroomPicture(values).run()
        })
      },
    })
  },
})

// Links to our stories -------------------------------------------------------------

function storyDialog(editor, options) {
  return openDialog(editor, {
    title: gettext("Link to one of our stories"),
    build(body, close) {
      const search = field(
        gettext("Find a story"),
        crel("input", { type: "search", name: "story", placeholder: gettext("Type words of its headline") }),
      )
      const results = crel("div", { className: "newsroom-story-choices" })
      results.setAttribute("role", "listbox")
      results.setAttribute("aria-label", gettext("Stories"))
      const cancel = button(gettext("Cancel"))
      cancel.addEventListener("click", () => close(null))
      body.append(search.wrapper, results, buttonRow(cancel))
      searchAsYouType(search.input, async (text) => {
        try {
          const data = await getJSON(options.searchUrl, { q: text })
          results.replaceChildren(
            ...data.stories.map((story) => {
              const choice = crel("button", { type: "button", className: "newsroom-story-choice" }, [
                crel("span", { className: "newsroom-story-title", textContent: story.title }),
                crel("span", { className: "newsroom-story-state", textContent: story.state }),
              ])
              choice.setAttribute("role", "option")
              choice.addEventListener("click", () => close(story))
              return choice
            }),
          )
          if (!data.stories.length)
            results.append(crel("p", { textContent: gettext("No story matches.") }))
        } catch {
          results.replaceChildren(crel("p", { textContent: gettext("Stories could not be searched; try again.") }))
        }
      })
      setTimeout(() => search.input.focus(), 0)
    },
  })
}

export const StoryLink = Link.extend({
  addOptions() {
    return { ...this.parent?.(), searchUrl: "" }
  },

  addAttributes() {
    return {
      ...this.parent?.(),
      article: {
        default: null,
        parseHTML: (element) => element.getAttribute("data-article"),
        renderHTML: (attributes) =>
          attributes.article ? { "data-article": attributes.article } : {},
      },
    }
  },

  addMenuItems(context) {
    this.parent?.(context)
    const options = this.options
    const name = this.name
    context.menu.defineItem({
      name: "storyLink",
      groups: "link",
      button: context.buttons.material("article", gettext("Link to one of our stories")),
      command(editor) {
        storyDialog(editor, options).then((story) => {
          if (!story) return
          const attrs = { href: story.url, article: String(story.id) }
          if (editor.state.selection.empty && !editor.isActive(name)) {
            editor
              .chain()
              .focus()
              .insertContent({ type: "text", text: story.title, marks: [{ type: name, attrs }] })
              .run()
          } else {
            editor.chain().focus().extendMarkRange(name).setMark(name, attrs).run()
          }
        })
      },
    })
  },
})

// Spell-checking ---------------------------------------------------------------------

export const BodyEditorAttributes = Extension.create({
  name: "bodyEditorAttributes",

  addOptions() {
    return { lang: "" }
  },

  addProseMirrorPlugins() {
    const attributes = { spellcheck: "true" }
    if (this.options.lang) attributes.lang = this.options.lang
    return [new Plugin({ props: { attributes } })]
  },
})
