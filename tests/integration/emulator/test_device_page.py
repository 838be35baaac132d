"""The verification page at `/device`, driven at the HTML level like a browser without JavaScript."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx
import pytest

from emulator import CloudEmulator
from tests.fakes import FakeClock
from tests.integration.emulator.emulator_driver import FAST, DeviceFlow, Started, http_client


@dataclass
class Form:
    """A form as a browser would submit it."""

    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (name, value)
    selects: dict[str, list[str]] = field(default_factory=dict)


class PageParser(HTMLParser):
    """Collects forms, the code box text, scripts and the visible text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.code_box = ""
        self.scripts = 0
        self.text: list[str] = []
        self._in: list[str] = []
        self._button: tuple[str, str] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self._in.append(values.get("class", "") if tag == "div" else tag)
        if tag == "script":
            self.scripts += 1
        elif tag == "form":
            self.forms.append(Form(values.get("method", "get"), values.get("action", "")))
        elif tag == "input" and values.get("name"):
            self.forms[-1].fields[values["name"]] = values.get("value", "")
        elif tag == "button":
            self._button = (values.get("name", ""), values.get("value", ""))
        elif tag == "select":
            self._select = values["name"]
            self.forms[-1].selects[self._select] = []
        elif tag == "option" and self._select is not None:
            self.forms[-1].selects[self._select].append(values["value"])
            if "selected" in values:
                self.forms[-1].fields[self._select] = values["value"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if self._in and tag not in ("input", "meta"):
            self._in.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._button is not None and data.strip():
            self.forms[-1].buttons[data.strip()] = self._button
            self._button = None
        if self._in and self._in[-1] == "code":
            self.code_box += data


def parse(response: httpx.Response) -> PageParser:
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    parser = PageParser()
    parser.feed(response.text)
    assert parser.scripts == 0
    return parser


def submit(client: httpx.Client, form: Form, button: str, **overrides: str) -> httpx.Response:
    name, value = form.buttons[button]
    data = {**form.fields, name: value, **overrides}
    if form.method.lower() == "get":
        return client.get(form.action, params=data)
    return client.post(form.action, data=data)


def test_entering_the_code_leads_to_a_confirmation_that_approves(
    flow: DeviceFlow, client: httpx.Client
) -> None:
    started = flow.start()
    entry = parse(client.get("/device"))
    assert "Enter the code" in "".join(entry.text)

    # People type codes lower-case and without the hyphen.
    typed = started.user_code.replace("-", "").lower()
    confirm_response = submit(client, entry.forms[0], "Continue", user_code=typed)
    confirm = parse(confirm_response)

    assert confirm_response.status_code == 200
    assert confirm.code_box == started.user_code
    text = " ".join(confirm.text)
    assert "Basic Memory CLI" in text
    assert "matches the one in your terminal" in text
    form = confirm.forms[0]
    assert form.method == "post"
    assert form.action == "/device"
    assert set(form.buttons) == {"Approve", "Deny"}
    assert form.fields["email"] == "alice@example.com"
    assert set(form.selects["email"]) == {"alice@example.com", "bob@example.com"}

    result = submit(client, form, "Approve")

    assert result.status_code == 200
    assert "Device approved. You can close this tab." in "".join(parse(result).text)
    time.sleep(0.05)
    assert flow.poll(started).json()["user"]["email"] == "alice@example.com"


def test_the_verification_uri_complete_shows_the_code_directly(
    flow: DeviceFlow, client: httpx.Client
) -> None:
    started = flow.start()
    page = parse(client.get(str(started.body["verification_uri_complete"])))
    assert page.code_box == started.user_code


def test_deny_from_the_page(flow: DeviceFlow, client: httpx.Client) -> None:
    started = flow.start()
    form = parse(client.get("/device", params={"user_code": started.user_code})).forms[0]

    result = submit(client, form, "Deny")

    assert "Request denied." in "".join(parse(result).text)
    assert flow.poll(started).json()["error"] == "access_denied"


def test_the_page_can_approve_as_another_user(flow: DeviceFlow, client: httpx.Client) -> None:
    started = flow.start()
    form = parse(client.get("/device", params={"user_code": started.user_code})).forms[0]
    submit(client, form, "Approve", email="bob@example.com")
    assert flow.poll(started).json()["user"]["email"] == "bob@example.com"


def test_the_approve_and_deny_buttons_look_different(
    flow: DeviceFlow, client: httpx.Client
) -> None:
    html = client.get("/device", params={"user_code": flow.start().user_code}).text
    assert 'class="approve"' in html
    assert 'class="deny"' in html
    assert ".approve { background: #1f883d" in html


def test_an_unknown_code_is_a_clear_error_and_everything_echoed_is_escaped(
    client: httpx.Client,
) -> None:
    hostile = '"><script>alert(1)</script>'
    response = client.get("/device", params={"user_code": hostile})

    assert response.status_code == 404
    page = parse(response)
    assert "That code is not valid" in "".join(page.text)
    assert "<script>alert(1)" not in response.text
    assert "&quot;&gt;&lt;script&gt;" in response.text
    # The hostile text went back into the form's value, intact once unescaped.
    assert page.forms[0].fields["user_code"] == hostile

    posted = client.post("/device", data={"user_code": hostile, "action": "approve"})
    assert posted.status_code == 404
    assert "<script>alert(1)" not in posted.text


def test_an_expired_code_says_so(
    start_emulator: Callable[..., CloudEmulator], clock: FakeClock
) -> None:
    emulator = start_emulator(FAST, clock)
    with http_client(emulator.base_url) as client:
        started = DeviceFlow(client, emulator).start()
        clock.advance(5)
        page = client.get("/device", params={"user_code": started.user_code})
        posted = client.post("/device", data={"user_code": started.user_code, "action": "deny"})
    assert page.status_code == posted.status_code == 410
    assert "This code has expired" in page.text
    assert "This code has expired" in posted.text


@pytest.mark.parametrize("action", ["approve", "deny"])
def test_a_decided_code_cannot_be_decided_again(
    flow: DeviceFlow, client: httpx.Client, action: str
) -> None:
    started: Started = flow.start()
    client.post("/device", data={"user_code": started.user_code, "action": action})
    again = client.post("/device", data={"user_code": started.user_code, "action": "approve"})
    assert again.status_code == 409
    assert "already been used" in again.text
    assert client.get("/device", params={"user_code": started.user_code}).status_code == 409


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "maybe"}, "Choose Approve or Deny."),
        ({"action": "approve", "email": "mallory@example.com"}, "There is no such user."),
    ],
)
def test_bad_form_posts_are_explained(
    flow: DeviceFlow, client: httpx.Client, data: dict[str, str], message: str
) -> None:
    started = flow.start()
    response = client.post("/device", data={"user_code": started.user_code, **data})
    assert response.status_code == 400
    assert message in response.text
    assert flow.poll(started).json()["error"] == "authorization_pending"


def test_the_subscribe_page_exists(client: httpx.Client) -> None:
    assert "Subscriptions are emulated" in "".join(parse(client.get("/subscribe")).text)
