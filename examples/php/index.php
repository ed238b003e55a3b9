<?php
// An OAuth 2.0 / OpenID Connect authorization server's web tier on authlete-grpc,
// in plain PHP: the Python example (examples/python/server.py) without gRPC.
// Every endpoint forwards what it received to the service over Connect JSON
// (connect.php) and writes the reply's `http` back as it is. The only things
// this file knows itself are its users and its sessions; its pages are in pages.php.
//
//     AUTHLETE_GRPC_URL=http://localhost:50051 php -S localhost:8080 index.php
//
// Settings (environment): AUTHLETE_GRPC_URL (the service), AUTHLETE_GRPC_TIMEOUT
// (seconds, the deadline of each call, 10), AUTHLETE_GRPC_CALLER_KEY (a bearer
// caller key, when the service authenticates its callers with keys).

require __DIR__ . '/connect.php';
require __DIR__ . '/pages.php';

// Your user store. The subject is the username; the profile is handed over whole
// and the service picks the claims each request asked for.
const USERS = [
    'alice' => ['password' => 'wonderland', 'profile' => [
        'name' => 'Alice Liddell', 'given_name' => 'Alice', 'family_name' => 'Liddell',
        'email' => 'alice@example.com', 'email_verified' => true]],
];
// Who may call the introspection endpoint (RFC 7662 section 2.1): resource servers.
const RESOURCE_SERVERS = ['resource-server' => 'rs-secret'];
const HTML = ['Content-Type' => 'text/html; charset=utf-8', 'Cache-Control' => 'no-store'];

function svc(string $service, string $method, array|object $request = []): array
{
    static $connect;
    $connect ??= Connect::fromEnvironment();
    return $connect->call($service, $method, $request);
}

/** Writes an authlete.v1.HttpResponse back verbatim. */
function reply(?array $http): void
{
    if ($http === null) {
        throw new ServiceError('a reply without an HTTP response');
    }
    $headers = [];
    foreach ($http['headers'] ?? [] as $h) {
        $headers[] = [$h['name'], $h['value']];
    }
    send((int) ($http['status'] ?? 0), $headers, $http['body'] ?? '');
}

function send(int $status, array $headers, string $body): void
{
    foreach ($headers as $name => $value) {
        [$name, $value] = is_array($value) ? $value : [$name, $value];
        header("$name: $value", false);
    }
    if ($status !== 204) { // RFC 9110 section 8.6: no Content-Length on a 204
        header('Content-Length: ' . strlen($body));
    }
    http_response_code($status); // after the headers: `Location` alone would make it a 302
    echo $body;
}

function request_header(string $name): string
{
    return $_SERVER['HTTP_' . strtoupper(str_replace('-', '_', $name))] ?? '';
}

/** client_id and client_secret from `Authorization: Basic` (RFC 6749 section 2.3.1). */
function basic_credentials(): array
{
    [$scheme, $value] = explode(' ', request_header('Authorization'), 2) + ['', ''];
    $decoded = strtolower($scheme) === 'basic' ? base64_decode($value) : false;
    if ($decoded === false || !preg_match('//u', $decoded)) {
        return ['', ''];
    }
    [$user, $password] = explode(':', $decoded, 2) + ['', ''];
    return [urldecode($user), urldecode($password)];
}

/** The token of `Authorization: Bearer` (RFC 6750 section 2.1), or "". */
function bearer(): string
{
    [$scheme, $token] = explode(' ', request_header('Authorization'), 2) + ['', ''];
    return strtolower($scheme) === 'bearer' ? trim($token) : '';
}

function form(string $encoded): array
{
    parse_str($encoded, $fields);
    return array_filter($fields, 'is_string'); // `a[]=x` is not one of our fields
}

/** Opens the session of the `sid` cookie ($create: or a new one); false when there is none. */
function session(bool $create = false): bool
{
    if (session_status() === PHP_SESSION_ACTIVE) {
        return true;
    }
    if (!$create && !isset($_COOKIE['sid'])) {
        return false;
    }
    session_name('sid');
    session_set_cookie_params(['path' => '/', 'httponly' => true, 'samesite' => 'Lax']);
    session_cache_limiter(''); // our own Cache-Control, or the service's
    ini_set('session.use_strict_mode', '1'); // a cookie we did not issue gets a new ID
    return session_start();
}

function profile_json(string $user): string
{
    return json_encode((object) (USERS[$user]['profile'] ?? []), JSON_THROW_ON_ERROR);
}

function authorize(string $params)
{
    $s = session() ? $_SESSION : [];
    $request = ['parameters' => $params];
    if (isset($s['user'])) { // for prompt=none: the service checks this login and finishes the flow itself
        $request['session'] = ['subject' => $s['user'], 'authTime' => $s['auth_time'],
            'claims' => profile_json($s['user'])];
    }
    $r = svc('AuthorizationService', 'Authorization', $request);
    if (($r['action'] ?? '') !== 'ACTION_INTERACTION') {
        return reply($r['http'] ?? null);
    }
    // OIDC Core 3.1.2.1: prompt=login, or a login older than max_age, needs a fresh login.
    $maxAge = (int) ($r['maxAge'] ?? 0);
    $stale = $maxAge > 0 && ($s['auth_time'] ?? 0) + $maxAge < time();
    $client = ($r['client']['clientName'] ?? '') ?: ($r['client']['clientIdAlias'] ?? '');
    ask_consent('/authorize/decision', $r['continuation'] ?? '', $client, $r['scopes'] ?? [],
        in_array('LOGIN', $r['prompts'] ?? [], true) || $stale);
}

/** Shows the login and consent page, whose form goes to $action (a decision route). */
function ask_consent(string $action, string $continuation, string $client, array $scopes, bool $login = false): void
{
    session(true);
    $csrf = rtrim(strtr(base64_encode(random_bytes(16)), '+/', '-_'), '=');
    $_SESSION['pending'] = ['action' => $action, 'continuation' => $continuation, 'csrf' => $csrf,
        'client' => $client, 'scopes' => implode(' ', array_column($scopes, 'name')), 'login' => $login];
    show_consent();
}

function show_consent(string $error = ''): void
{
    $p = $_SESSION['pending'];
    $user = $p['login'] ? null : ($_SESSION['user'] ?? null); // null shows the login form
    send(200, HTML, consent_page($p['action'], $p['csrf'], $p['client'], $p['scopes'], $user, $error));
}

/** The consent form's answer, for the authorization endpoint and the device flow. */
function decide(string $body)
{
    $f = form($body);
    $p = session() ? ($_SESSION['pending'] ?? null) : null;
    if (!$p || $p['action'] !== route_path() || !hash_equals($p['csrf'], $f['csrf'] ?? '')) {
        return send(400, ['Content-Type' => 'text/plain'], 'No authorization request in progress.');
    }
    $allowed = ($f['decision'] ?? '') === 'allow';
    if ($allowed && (isset($f['username']) || !isset($_SESSION['user']) || $p['login'])) { // the login form was shown
        $user = USERS[$f['username'] ?? ''] ?? null;
        if (!$user || !hash_equals($user['password'], $f['password'] ?? '')) {
            return show_consent('Wrong username or password.');
        }
        $_SESSION['user'] = $f['username'];
        $_SESSION['auth_time'] = time();
        session_regenerate_id(true); // a new session ID at login (no session fixation)
    }
    unset($_SESSION['pending']);
    $approval = $allowed ? ['subject' => $_SESSION['user'], 'authTime' => $_SESSION['auth_time'],
        'claims' => profile_json($_SESSION['user'])] : null;
    $p['action'] === '/device/decision' ? finish_device($p['continuation'], $approval)
        : finish_authorization($p['continuation'], $approval);
}

function finish_authorization(string $continuation, ?array $approval): void
{
    $decision = $approval ? ['approved' => $approval] : ['denied' => new stdClass()];
    reply(svc('AuthorizationService', 'AuthorizationDecision',
        ['continuation' => $continuation] + $decision)['http'] ?? null);
}

function token(string $form)
{
    [$clientId, $secret] = basic_credentials();
    $r = svc('TokenService', 'Token', ['parameters' => $form, 'clientId' => $clientId,
        'clientSecret' => $secret, 'dpop' => request_header('DPoP'), 'htm' => 'POST']);
    if (isset($r['http'])) {
        return reply($r['http']);
    }
    $user = USERS[$r['username'] ?? ''] ?? null;
    $decision = ($r['action'] ?? '') === 'ACTION_PASSWORD' && $user
        && hash_equals($user['password'], $r['password'] ?? '')
        ? ['granted' => ['subject' => $r['username']]]
        : ['denied' => new stdClass()]; // a wrong password; token exchange, JWT bearer and Native SSO are not offered here
    reply(svc('TokenService', 'TokenDecision', ['continuation' => $r['continuation'] ?? ''] + $decision)['http'] ?? null);
}

function userinfo(string $params)
{
    [$scheme, $token] = explode(' ', request_header('Authorization'), 2) + ['', ''];
    if (!in_array(strtolower($scheme), ['bearer', 'dpop'], true)) {
        $token = form($params)['access_token'] ?? '';
    }
    $r = svc('UserInfoService', 'UserInfo', ['token' => $token, 'dpop' => request_header('DPoP'),
        'htm' => $_SERVER['REQUEST_METHOD']]);
    if (($r['action'] ?? '') !== 'ACTION_OK') {
        return reply($r['http'] ?? null);
    }
    reply(svc('UserInfoService', 'UserInfoDecision', ['continuation' => $r['continuation'] ?? '',
        'claims' => profile_json($r['subject'] ?? '')])['http'] ?? null);
}

function introspect(string $form)
{
    [$rs, $secret] = basic_credentials();
    if (!hash_equals(RESOURCE_SERVERS[$rs] ?? "\0", $secret)) {
        return send(401, ['WWW-Authenticate' => 'Basic realm="introspection"', 'Cache-Control' => 'no-store'], '');
    }
    reply(svc('IntrospectionService', 'StandardIntrospection', ['parameters' => $form,
        'httpAcceptHeader' => request_header('Accept')])['http'] ?? null);
}

/** Revocation, PAR and the device authorization endpoint: the form and the client's credentials. */
function client_request(string $service, string $method, array $extra = []): callable
{
    return function (string $form) use ($service, $method, $extra): void {
        [$clientId, $secret] = basic_credentials();
        reply(svc($service, $method, ['parameters' => $form, 'clientId' => $clientId,
            'clientSecret' => $secret] + $extra)['http'] ?? null);
    };
}

// The device flow (RFC 8628): the device gets its codes at /device_authorization and
// polls the token endpoint; the user types the code at the verification URI, /device.
// Pages for a user code that cannot be used, with java-oauth-server's statuses.
const UNUSABLE_CODE = ['ACTION_NOT_EXIST' => [404, 'There is no such code. Check it.'],
    'ACTION_EXPIRED' => [400, 'The code has expired. Start again.']];
const NOT_COMPLETED = ['ACTION_USER_CODE_NOT_EXIST' => [400, 'The code is no longer valid.'],
    'ACTION_USER_CODE_EXPIRED' => [400, 'The code has expired. Start again.']];
const BROKEN = [500, 'Something went wrong. Try again later.'];

/** GET asks for the user code (verification_uri_complete fills it in), POST looks it up
 * and asks the user to log in and consent. */
function device(string $params)
{
    $get = $_SERVER['REQUEST_METHOD'] === 'GET';
    $code = trim(form($params)['user_code'] ?? '');
    if ($get || $code === '') {
        return send($get ? 200 : 400, HTML, user_code_page($code, $get ? '' : 'Type the code your device shows.'));
    }
    $r = svc('DeviceFlowService', 'DeviceVerification', ['userCode' => $code]);
    if (($r['action'] ?? '') !== 'ACTION_VALID') {
        [$status, $error] = UNUSABLE_CODE[$r['action'] ?? ''] ?? BROKEN;
        return send($status, HTML, user_code_page($code, $error));
    }
    ask_consent('/device/decision', $r['continuation'] ?? '',
        ($r['clientName'] ?? '') ?: ($r['clientIdAlias'] ?? ''), $r['scopes'] ?? []);
}

function finish_device(string $continuation, ?array $approval)
{
    $decision = $approval ? ['approved' => $approval] : ['denied' => new stdClass()];
    $r = svc('DeviceFlowService', 'DeviceDecision', ['continuation' => $continuation] + $decision)['complete'] ?? [];
    if (($r['action'] ?? '') !== 'ACTION_SUCCESS') {
        [$status, $error] = NOT_COMPLETED[$r['action'] ?? ''] ?? BROKEN;
        return send($status, HTML, result_page('Not done', $error));
    }
    send(200, HTML, $approval ? result_page('Done', 'You may go back to your device.')
        : result_page('Denied', 'The device gets no access.'));
}

// Dynamic client registration (RFC 7591) and its client configuration endpoint (RFC 7592).
// Whatever the client sends goes to the service, whose reply (400 invalid_client_metadata,
// 401 invalid_token, ...) is written back as it comes.
function register(string $body)
{
    reply(svc('ClientRegistrationService', 'ClientRegistration', ['json' => $body, 'token' => bearer()])['http'] ?? null);
}

/** GET, PUT and DELETE /register/{client_id}, with the registration access token. */
function manage_client(string $body)
{
    $request = ['clientId' => rawurldecode(substr(route_path(), strlen('/register/'))), 'token' => bearer()];
    if ($request['token'] === '') { // no credentials: a challenge without an error code (RFC 6750 section 3.1)
        return send(401, ['WWW-Authenticate' => 'Bearer', 'Cache-Control' => 'no-store'], '');
    }
    $method = ['GET' => 'ClientRegistrationGet', 'PUT' => 'ClientRegistrationUpdate',
        'DELETE' => 'ClientRegistrationDelete'][$_SERVER['REQUEST_METHOD']];
    if ($method === 'ClientRegistrationUpdate') {
        $request['json'] = $body;
    }
    reply(svc('ClientRegistrationService', $method, $request)['http'] ?? null);
}

function route_path(): string
{
    return (string) parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
}

$routes = [
    'GET /authorize' => 'authorize', 'POST /authorize' => 'authorize',
    'POST /authorize/decision' => 'decide',
    'POST /token' => 'token',
    'GET /userinfo' => 'userinfo', 'POST /userinfo' => 'userinfo',
    'POST /introspect' => 'introspect',
    'POST /revoke' => client_request('RevocationService', 'Revocation'),
    'POST /par' => client_request('PushedAuthorizationService', 'PushedAuthorization',
        ['dpop' => request_header('DPoP'), 'htm' => 'POST']),
    'POST /device_authorization' => client_request('DeviceFlowService', 'DeviceAuthorization'),
    'GET /device' => 'device', 'POST /device' => 'device',
    'POST /device/decision' => 'decide',
    'POST /register' => 'register',
    'GET /register/{client_id}' => 'manage_client', 'PUT /register/{client_id}' => 'manage_client',
    'DELETE /register/{client_id}' => 'manage_client',
    'GET /.well-known/openid-configuration' => fn () => reply(svc('DiscoveryService', 'ServiceConfiguration')['http'] ?? null),
    'GET /jwks' => fn () => reply(svc('DiscoveryService', 'ServiceJwks')['http'] ?? null),
];

header_remove('X-Powered-By');
ini_set('default_mimetype', ''); // no Content-Type but the one a reply carries, unchanged
ini_set('default_charset', '');
$method = $_SERVER['REQUEST_METHOD'];
$route = $routes[$method . ' ' . preg_replace('#^/register/[^/]+$#', '/register/{client_id}', route_path())] ?? null;
if ($route === null) {
    send(404, ['Content-Type' => 'text/plain'], 'Not found');
    return;
}
try {
    $route(in_array($method, ['POST', 'PUT'], true) ? file_get_contents('php://input') : ($_SERVER['QUERY_STRING'] ?? ''));
} catch (ServiceError | JsonException $e) { // the service is down or refused the call: say nothing more
    error_log('authlete-grpc call failed: ' . $e->getMessage());
    header_remove();
    send(500, ['Content-Type' => 'application/json', 'Cache-Control' => 'no-store'], '{"error":"server_error"}');
}
