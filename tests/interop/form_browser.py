"""A browser without JavaScript: reads a page's HTML forms and links and submits them over httpx.

It does what a person does on the provider's own pages (type the user code, sign in, consent,
or abort), with cookies and redirects, and knows nothing of the provider's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


@dataclass(frozen=True)
class Button:
    text: str
    name: str | None
    value: str


@dataclass
class Form:
    id: str | None
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[Button] = field(default_factory=list)


@dataclass
class Page:
    url: str
    status: int
    html: str
    title: str
    forms: list[Form]
    links: dict[str, str]

    def form_with(self, field_name: str) -> Form:
        for form in self.forms:
            if field_name in form.fields:
                return form
        raise AssertionError(f"no form with a {field_name!r} field on {self.url}: {self.title!r}")


class _Reader(HTMLParser):
    """Collects forms (fields, submit buttons, also those tied by `form=`), links and title."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: list[Form] = []
        self.links: dict[str, str] = {}
        self.title = ""
        self._form: Form | None = None
        self._text_for: str | None = None
        self._text: list[str] = []
        self._pending: dict[str, str | None] = {}

    def _owner(self, attributes: dict[str, str | None]) -> Form | None:
        owner_id = attributes.get("form")
        if owner_id is None:
            return self._form
        return next((f for f in self.forms if f.id == owner_id), None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self._form = Form(
                id=attributes.get("id"),
                action=urljoin(self.url, attributes.get("action") or self.url),
                method=(attributes.get("method") or "get").upper(),
            )
            self.forms.append(self._form)
        elif tag == "input":
            owner = self._owner(attributes)
            name = attributes.get("name")
            if owner is not None and name and attributes.get("type") != "submit":
                owner.fields[name] = attributes.get("value") or ""
        elif tag in ("button", "a", "title"):
            self._text_for = tag
            self._text = []
            self._pending = attributes

    def handle_data(self, data: str) -> None:
        if self._text_for is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag != self._text_for:
            return
        text = " ".join("".join(self._text).split())
        attributes = self._pending
        self._text_for = None
        if tag == "title":
            self.title = text
        elif tag == "a" and attributes.get("href"):
            self.links[text] = urljoin(self.url, attributes["href"] or "")
        elif tag == "button" and attributes.get("type", "submit") == "submit":
            owner = self._owner(attributes)
            if owner is not None:
                owner.buttons.append(
                    Button(text, attributes.get("name"), attributes.get("value") or "")
                )


def _page(response: httpx.Response) -> Page:
    reader = _Reader(str(response.url))
    reader.feed(response.text)
    reader.close()
    return Page(
        str(response.url),
        response.status_code,
        response.text,
        reader.title,
        reader.forms,
        reader.links,
    )


class FormBrowser:
    """One browsing session: a cookie jar, redirects followed, no scripts run."""

    def __init__(self) -> None:
        self._client = httpx.Client(follow_redirects=True, timeout=15)

    def __enter__(self) -> FormBrowser:
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    def open(self, url: str) -> Page:
        return _page(self._client.get(url))

    def submit(self, form: Form, button_text: str, **typed: str) -> Page:
        """Fill the named fields and press the submit button with this text, as a browser does:
        the pressed button's name and value are sent along, the others' are not."""
        unknown = set(typed) - set(form.fields)
        assert not unknown, f"the form has no field {sorted(unknown)}"
        button = next((b for b in form.buttons if b.text == button_text), None)
        assert button is not None, f"no {button_text!r} button, only {form.buttons}"
        data = {**form.fields, **typed}
        if button.name:
            data[button.name] = button.value
        if form.method == "POST":
            return _page(self._client.post(form.action, data=data))
        return _page(self._client.get(form.action, params=data))
