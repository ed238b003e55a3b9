"""The HTML pages of the example web tier (server.py): the login and consent page
of the authorization endpoint and of the device flow, the device flow's user code
page and its result pages. Every value is escaped here."""

from html import escape

CONSENT = """<!doctype html><meta charset="utf-8"><title>Sign in</title>
<h1>{client} asks for access</h1><p>Scopes: {scopes}</p><p style="color:red">{error}</p>
<form method="post" action="{action}"><input type="hidden" name="csrf" value="{csrf}">
{login}<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Deny</button>
</form>"""
LOGIN = """<p><input name="username" placeholder="username (alice)">
<input name="password" type="password" placeholder="password (wonderland)"></p>"""
USER_CODE = """<!doctype html><meta charset="utf-8"><title>Connect a device</title>
<h1>Connect a device</h1><p>Type the code your device shows.</p><p style="color:red">{error}</p>
<form method="post" action="/device"><input name="user_code" value="{user_code}"
placeholder="BCDFGHJK" autocomplete="off" autofocus> <button>Continue</button></form>"""
RESULT = """<!doctype html><meta charset="utf-8"><title>{title}</title>
<h1>{title}</h1><p>{message}</p>"""


def consent(action, csrf, client, scopes, user=None, error=""):
    """The login (unless `user` is signed in) and consent form, posted to `action`."""
    login = f"<p>Signed in as {escape(user)}.</p>" if user else LOGIN
    return CONSENT.format(action=escape(action), csrf=escape(csrf), client=escape(client),
                          scopes=escape(scopes), error=escape(error), login=login)


def user_code(prefill="", error=""):
    """The device flow's verification page: asks for the user code."""
    return USER_CODE.format(user_code=escape(prefill), error=escape(error))


def result(title, message):
    return RESULT.format(title=escape(title), message=escape(message))
