"""The few HTML pages of the emulator's Entra ID: sign-in, errors, form_post and signed-out.

Plain HTML with no scripts except the auto-submit of a form_post response (which Entra's own
page does the same way), so tests can drive them with requests and people with a browser.
"""

from __future__ import annotations

from html import escape

from flask import Response

from connector.emulator.model import User

STYLE = """
body{font-family:system-ui,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem 2.5rem;
box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:1.5rem;font-weight:600;margin:0 0 .25rem}
label{display:block;margin:.75rem 0}
input{display:block;width:100%;box-sizing:border-box;padding:.4rem;margin-top:.25rem}
button{cursor:pointer}
.primary{background:#0067b8;color:#fff;border:0;padding:.5rem 1.5rem}
.error{color:#c00;border-left:3px solid #c00;padding-left:.5rem}
ul.people{list-style:none;padding:0;max-height:24rem;overflow-y:auto}
ul.people button{width:100%;text-align:left;background:none;border:1px solid #ddd;
padding:.4rem .6rem;margin:.15rem 0}
ul.people small{display:block;color:#666}
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}'
        f"</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>"
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store, no-cache"
    return response


def sign_in(
    action: str,
    app_name: str,
    people: list[User],
    demo_password: str,
    login_hint: str = "",
    error: str = "",
) -> Response:
    """Username + password form, then one button per demo person (posts the demo password)."""
    parts = [
        "<h1>Sign in</h1>",
        f"<p>to continue to <b>{escape(app_name)}</b></p>",
        f'<p class="error" role="alert">{escape(error)}</p>' if error else "",
        f'<form method="post" action="{escape(action)}" class="credentials">',
        '<label>Email or username<input name="login" autocomplete="username" required'
        f' value="{escape(login_hint)}"></label>',
        '<label>Password<input type="password" name="password" autocomplete="current-password">'
        "</label>",
        '<button type="submit" class="primary">Sign in</button></form>',
        "<h2>Demo people</h2><p>Pick a person to sign in with the demo password.</p>",
        '<ul class="people">',
    ]
    for person in people:
        parts.append(
            f'<li><form method="post" action="{escape(action)}">'
            f'<input type="hidden" name="login" value="{escape(person.user_principal_name)}">'
            f'<input type="hidden" name="password" value="{escape(demo_password)}">'
            f'<button type="submit">{escape(person.display_name)}'
            f"<small>{escape(person.user_principal_name)}</small></button></form></li>"
        )
    parts.append("</ul>")
    return _page("Sign in to your account", "".join(parts))


def error(code: int, message: str, status: int = 400) -> Response:
    """What Entra shows when it cannot send the browser back to the app (bad client or URI)."""
    body = (
        "<h1>Sorry, but we're having trouble signing you in.</h1>"
        f'<p class="error" role="alert">AADSTS{code}: {escape(message)}</p>'
    )
    return _page("Sign in to your account", body, status)


def form_post(redirect_uri: str, fields: dict[str, str]) -> Response:
    """response_mode=form_post: the browser posts the answer to the app."""
    inputs = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    body = (
        f'<form method="post" name="hiddenform" action="{escape(redirect_uri)}">{inputs}'
        "<noscript><p>Script is disabled. Click Submit to continue.</p>"
        '<button type="submit">Submit</button></noscript></form>'
        "<script>document.forms.hiddenform.submit()</script>"
    )
    return _page("Working...", body)


def signed_out() -> Response:
    return _page(
        "Sign out",
        "<h1>You signed out of your account</h1>"
        "<p>It's a good idea to close all browser windows.</p>",
    )
