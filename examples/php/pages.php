<?php
// The HTML pages of the PHP web tier (index.php), the same as the Python
// example's pages.py: the login and consent page of the authorization endpoint
// and of the device flow, the device flow's user code page and its result pages.
// Every value is escaped here.

function e(string $s): string
{
    return htmlspecialchars($s, ENT_QUOTES | ENT_HTML5, 'UTF-8');
}

/** The login (unless $user is signed in) and consent form, posted to $action. */
function consent_page(string $action, string $csrf, string $client, string $scopes, ?string $user, string $error): string
{
    $login = $user !== null ? '<p>Signed in as ' . e($user) . '.</p>' : '<p><input name="username" placeholder="username (alice)">
<input name="password" type="password" placeholder="password (wonderland)"></p>';
    return '<!doctype html><meta charset="utf-8"><title>Sign in</title>
<h1>' . e($client) . ' asks for access</h1><p>Scopes: ' . e($scopes) . '</p><p style="color:red">' . e($error) . '</p>
<form method="post" action="' . e($action) . '"><input type="hidden" name="csrf" value="' . e($csrf) . '">
' . $login . '<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Deny</button>
</form>';
}

/** The device flow's verification page: asks for the user code. */
function user_code_page(string $prefill, string $error): string
{
    return '<!doctype html><meta charset="utf-8"><title>Connect a device</title>
<h1>Connect a device</h1><p>Type the code your device shows.</p><p style="color:red">' . e($error) . '</p>
<form method="post" action="/device"><input name="user_code" value="' . e($prefill) . '"
placeholder="BCDFGHJK" autocomplete="off" autofocus> <button>Continue</button></form>';
}

function result_page(string $title, string $message): string
{
    return '<!doctype html><meta charset="utf-8"><title>' . e($title) . '</title>
<h1>' . e($title) . '</h1><p>' . e($message) . '</p>';
}
