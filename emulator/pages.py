"""HTML pages of the emulator's verification page (RFC 8628 §3.3): plain forms, no JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.state import User

CLIENT_NAME = "Basic Memory CLI"

_CSS = """
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  background: #f4f5f7; color: #1f2328;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { background: #fff; max-width: 30rem; width: 100%; margin: 1rem; padding: 2rem;
  border-radius: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.08), 0 8px 24px rgba(0,0,0,.06); }
h1 { font-size: 1.35rem; margin: 0 0 .75rem; }
p { margin: .5rem 0; }
.brand { font-size: .8rem; letter-spacing: .08em; text-transform: uppercase; color: #57606a; }
.code { font: 700 clamp(1.4rem, 7.5vw, 2.2rem)/1.2 ui-monospace, "SF Mono", Menlo, Consolas,
  monospace; letter-spacing: .15em; white-space: nowrap; text-align: center; padding: .75rem;
  margin: 1rem 0;
  border: 2px dashed #8c959f; border-radius: 8px; background: #f6f8fa; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
button, select { font-family: inherit; }
input[type=text], select { width: 100%; padding: .6rem .7rem; font-size: 1.1rem;
  border: 1px solid #8c959f; border-radius: 6px; background: #fff; color: inherit; }
input[type=text] { font-family: ui-monospace, Menlo, Consolas, monospace;
  text-transform: uppercase; letter-spacing: .1em; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
button { flex: 1; padding: .75rem 1rem; font-size: 1rem; font-weight: 600; border-radius: 6px;
  cursor: pointer; border: 1px solid transparent; }
.approve { background: #1f883d; color: #fff; }
.approve:hover { background: #1a7f37; }
.deny { background: #f6f8fa; color: #b42318; border-color: #d0d7de; }
.deny:hover { background: #ffebe9; }
.primary { background: #0969da; color: #fff; }
.notice { padding: .75rem 1rem; border-radius: 6px; margin: 1rem 0; }
.error { background: #ffebe9; color: #82071e; border: 1px solid #ffcecb; }
.ok { background: #dafbe1; color: #116329; border: 1px solid #aceebb; }
.muted { color: #57606a; font-size: .9rem; }
@media (max-width: 420px) { main { padding: 1.25rem; } }
"""


def _layout(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Basic Memory Cloud (emulator)</title>"
        f"<style>{_CSS}</style></head>"
        f'<body><main><div class="brand">Basic Memory Cloud · local emulator</div>{body}'
        "</main></body></html>\n"
    )


def entry_page(error: str | None = None, typed: str = "") -> str:
    """Ask for the code shown in the terminal, optionally after a problem with `typed`.

    >>> "&lt;b&gt;" in entry_page("Unknown code", "<b>")
    True
    """
    notice = f'<p class="notice error" role="alert">{escape(error)}</p>' if error else ""
    return _layout(
        "Connect a device",
        f"<h1>Connect a device</h1>{notice}"
        f"<p>Enter the code shown by the {CLIENT_NAME} in your terminal.</p>"
        '<form method="get" action="/device">'
        '<label for="user_code">Code</label>'
        '<input type="text" id="user_code" name="user_code" placeholder="XXXX-XXXX" '
        f'value="{escape(typed)}" autocomplete="off" autocapitalize="characters" '
        'spellcheck="false" autofocus required>'
        '<div class="actions"><button class="primary" type="submit">Continue</button></div>'
        "</form>",
    )


def confirm_page(user_code: str, users: Sequence[User], default_email: str) -> str:
    """Show the code and let a person approve or deny the sign-in (RFC 8628 §5.4)."""
    options = "".join(
        f'<option value="{escape(user.email)}"{" selected" if user.email == default_email else ""}>'
        f"{escape(user.email)}{'' if user.subscribed else ' (no subscription)'}</option>"
        for user in users
    )
    return _layout(
        "Confirm sign-in",
        f"<h1>Sign in the {CLIENT_NAME}?</h1>"
        f"<p>A device, the <strong>{CLIENT_NAME}</strong>, is asking to sign in to your "
        "Basic Memory Cloud account.</p>"
        f'<div class="code" aria-label="user code">{escape(user_code)}</div>'
        "<p><strong>Check that this code matches the one in your terminal.</strong> "
        "If it does not, or you did not start this, deny the request.</p>"
        '<form method="post" action="/device">'
        f'<input type="hidden" name="user_code" value="{escape(user_code)}">'
        f'<label for="email">Sign in as</label><select id="email" name="email">{options}</select>'
        '<div class="actions">'
        '<button class="approve" type="submit" name="action" value="approve">Approve</button>'
        '<button class="deny" type="submit" name="action" value="deny">Deny</button>'
        "</div></form>",
    )


def result_page(approved: bool) -> str:
    """What a person sees after deciding."""
    if approved:
        return _layout(
            "Device approved",
            '<h1>Device approved</h1><p class="notice ok">Device approved. '
            "You can close this tab.</p>"
            f'<p class="muted">Return to your terminal: the {CLIENT_NAME} is signed in.</p>',
        )
    return _layout(
        "Request denied",
        '<h1>Request denied</h1><p class="notice error">Request denied.</p>'
        f'<p class="muted">The {CLIENT_NAME} was not signed in. You can close this tab.</p>',
    )


def subscribe_page() -> str:
    """The page behind `subscribe_url`: the emulator has no billing."""
    return _layout(
        "Subscribe",
        "<h1>Subscriptions are emulated</h1>"
        "<p>This local emulator has no billing. Give a user a subscription with "
        '<code>POST /_emulator/subscription</code> and <code>{"email": ..., "active": true}'
        "</code>.</p>",
    )
