"""A black-box crawler of the portal: walks the pages from the dashboard by following links
(and htmx `hx-get`s), and reads every form from the HTML as a browser would (stdlib
html.parser): `<form>`s with their inputs (also those outside, attached by `form="…"`),
submit buttons with a name/value or a `formaction`, and htmx elements that post their own
inputs (`hx-post` with `hx-include="this"`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "area", "base", "wbr"}
SKIPPED_PATHS = ("/logout/", "/static/", "/api/", "/i18n/", "/account/language/")


@dataclass
class Field:
    name: str
    kind: str  # input type, "select", "textarea"
    value: str = ""
    checked: bool = False
    options: list[str] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    multiple: bool = False


@dataclass
class Submit:
    name: str = ""
    value: str = ""
    action: str = ""  # formaction


@dataclass
class Form:
    method: str
    action: str
    htmx: bool
    element_id: str = ""
    fields: list[Field] = field(default_factory=list)
    submits: list[Submit] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # hx-vals
    plain_action: str = ""  # where it posts without htmx, when that differs from hx-post


class PageParser(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[tuple[str, bool]] = []  # (url, via htmx)
        self.forms: list[Form] = []
        self._open: list[tuple[Form, str, int]] = []  # form, its tag, nesting depth
        self._by_id: dict[str, Form] = {}
        self._detached: list[tuple[str, Any]] = []  # (form id, Field | Submit)
        self._select: Field | None = None
        self._option: str | None = None
        self._textarea: Field | None = None

    # -- structure --------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for name, value in a.items():
            if name in ("href", "hx-get") and value and not value.startswith(("#", "javascript")):
                self.links.append((urljoin(self.url, value), name == "hx-get"))
        if tag not in VOID:
            self._open = [(f, t, d + 1 if t == tag else d) for f, t, d in self._open]
        posts_itself = "hx-post" in a and a.get("hx-include") in ("this", None)
        if tag == "form" or (posts_itself and tag not in ("button", "input")):
            self._start_form(tag, a)
            return
        if tag in ("input", "button", "select", "textarea"):
            self._control(tag, a)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            self._option = "value" if "value" in a else "text"
            if "selected" in a:
                self._select.selected.append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None
        if tag == "option":
            self._option = None
        for index in range(len(self._open) - 1, -1, -1):
            form, form_tag, depth = self._open[index]
            if form_tag == tag:
                if depth <= 1:
                    self._open.pop(index)
                else:
                    self._open[index] = (form, form_tag, depth - 1)
                break

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data
        if self._select is not None and self._option == "text" and self._select.options:
            self._select.options[-1] += data.strip()  # an option without value sends its text

    def _start_form(self, tag: str, a: dict[str, str]) -> None:
        method = "post" if "hx-post" in a else a.get("method", "get").lower()
        action = a.get("hx-post") or a.get("action") or a.get("hx-get") or self.url
        extra: dict[str, str] = {}
        if a.get("hx-vals"):
            try:
                extra = {k: str(v) for k, v in json.loads(a["hx-vals"]).items()}
            except ValueError:
                extra = {}
        form = Form(
            method=method,
            action=urljoin(self.url, action),
            htmx=any(k.startswith("hx-") for k in a),
            element_id=a.get("id", ""),
            extra=extra,
        )
        if tag == "form" and a.get("action") and a.get("hx-post", a["action"]) != a["action"]:
            form.plain_action = urljoin(self.url, a["action"])
        self.forms.append(form)
        if form.element_id:
            self._by_id[form.element_id] = form
        self._open.append((form, tag, 1))

    def _control(self, tag: str, a: dict[str, str]) -> None:
        kind = a.get("type", "text" if tag == "input" else "submit").lower()
        if tag in ("select", "textarea"):
            kind = tag
        item: Field | Submit
        if kind in ("submit", "image") or (tag == "button" and kind == "submit"):
            item = Submit(a.get("name", ""), a.get("value", ""), a.get("formaction", ""))
            if "disabled" in a:
                return
        elif tag == "button" or kind in ("button", "reset", "file") or not a.get("name"):
            return
        else:
            item = Field(
                name=a["name"],
                kind=kind,
                value=a.get("value", "on" if kind in ("checkbox", "radio") else ""),
                checked="checked" in a,
                multiple="multiple" in a,
            )
            if tag == "select":
                self._select = item
            if tag == "textarea":
                self._textarea = item
        if a.get("form"):
            self._detached.append((a["form"], item))
        elif self._open:
            self._add(self._open[-1][0], item)

    def _add(self, form: Form, item: Any) -> None:
        (form.submits if isinstance(item, Submit) else form.fields).append(item)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def close(self) -> None:
        super().close()
        for form_id, item in self._detached:
            if form_id in self._by_id:
                self._add(self._by_id[form_id], item)
        for form in list(self.forms):
            if form.plain_action:
                self.forms.append(
                    Form("post", form.plain_action, False, "", form.fields, form.submits)
                )


def parse_page(url: str, html: str) -> PageParser:
    parser = PageParser(url)
    parser.feed(html)
    parser.close()
    return parser


def pattern(url: str) -> str:
    """A URL's shape: ids become {id} and query values are dropped, so the crawl visits
    each kind of page a few times, not every page of every list."""
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/{id}", parts.path)
    keys = sorted({item.split("=")[0] for item in parts.query.split("&") if item})
    return path + ("?" + "&".join(keys) if keys else "")


def is_portal_page(url: str) -> bool:
    parts = urlsplit(url)
    if parts.netloc not in ("", "testserver"):
        return False
    return not parts.path.startswith(SKIPPED_PATHS) and "format=csv" not in parts.query


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
