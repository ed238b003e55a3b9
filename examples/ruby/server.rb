# A resource server in plain Ruby (standard library only: socket, net/http, json)
# that checks every bearer token with authlete-grpc's IntrospectionService over
# Connect JSON, with the scope each route needs, and on failure writes back the
# challenge the service built (401 invalid_token, 403 insufficient_scope, ...).
#
#     AUTHLETE_GRPC_URL=http://localhost:50051 ruby server.rb --port 8081
#
# Settings (environment): AUTHLETE_GRPC_URL (the service), AUTHLETE_GRPC_TIMEOUT
# (seconds, the deadline of each call, 10), AUTHLETE_GRPC_CALLER_KEY (a bearer
# caller key, when the service authenticates its callers with keys).
require 'json'
require 'net/http'
require 'optparse'
require 'socket'
require 'timeout'
require 'uri'

# The protected resources: path => the scope a token needs for it.
ROUTES = { '/profile' => 'profile', '/email' => 'email' }.freeze
SERVICE = URI(ENV.fetch('AUTHLETE_GRPC_URL', 'http://localhost:50051'))
TIMEOUT = Float(ENV.fetch('AUTHLETE_GRPC_TIMEOUT', '10'))
CALLER_KEY = ENV.fetch('AUTHLETE_GRPC_CALLER_KEY', '')
MAX_HEADER_LINES = 100 # of at most 8 KiB each: a request is small, or refused
REASONS = { 200 => 'OK', 400 => 'Bad Request', 401 => 'Unauthorized', 403 => 'Forbidden',
             404 => 'Not Found', 405 => 'Method Not Allowed', 500 => 'Internal Server Error' }.freeze
JSON_TYPE = { 'Content-Type' => 'application/json', 'Cache-Control' => 'no-store' }.freeze

class ServiceError < StandardError; end

# Calls authlete.v1.<service>/<method> with a request message in proto3 JSON.
def call(service, method, request)
  http = Net::HTTP.new(SERVICE.host, SERVICE.port)
  http.use_ssl = SERVICE.scheme == 'https'
  http.open_timeout = [TIMEOUT, 2].min
  http.read_timeout = http.write_timeout = TIMEOUT + 0.5 # the service's deadline answers first
  headers = { 'Content-Type' => 'application/json', 'Connect-Protocol-Version' => '1',
              'Connect-Timeout-Ms' => (TIMEOUT * 1000).to_i.to_s }
  headers['Authorization'] = "Bearer #{CALLER_KEY}" unless CALLER_KEY.empty?
  res = http.post("#{SERVICE.path.chomp('/')}/authlete.v1.#{service}/#{method}", JSON.generate(request), headers)
  # A Connect error: keep its code only, the message is not for the client.
  raise ServiceError, "#{method}: #{(JSON.parse(res.body)['code'] rescue "http #{res.code}")}" unless res.code == '200'
  JSON.parse(res.body)
rescue IOError, SystemCallError, Timeout::Error, JSON::ParserError => e
  raise ServiceError, "#{method}: #{e.class}"
end

# [status, headers, body] for GET `path` with these request headers.
def handle(method, path, headers)
  scope = ROUTES[path]
  return [404, { 'Content-Type' => 'text/plain' }, 'Not found'] unless scope
  return [405, { 'Allow' => 'GET', 'Content-Type' => 'text/plain' }, 'GET only'] unless method == 'GET'

  scheme, token = headers.fetch('authorization', '').split(' ', 2)
  # RFC 6750 section 3.1: no credentials, a challenge without an error code.
  unless scheme&.casecmp?('bearer') && token && !token.strip.empty?
    return [401, { 'WWW-Authenticate' => 'Bearer realm="example-rs"', 'Cache-Control' => 'no-store' }, '']
  end

  r = call('IntrospectionService', 'Introspection', { token: token.strip, scopes: [scope] })
  if r['action'] == 'ACTION_OK' # the token is valid and has the scope: serve the resource
    return [200, JSON_TYPE, JSON.generate(subject: r['subject'].to_s, client_id: r['clientIdAlias'].to_s,
                                          scopes: r['scopes'] || [], resource: path)]
  end
  http = r['http'] or raise ServiceError, 'Introspection: no HTTP response'
  [http['status'], (http['headers'] || []).map { |h| [h['name'], h['value']] }, http['body'].to_s]
rescue ServiceError => e
  warn "authlete-grpc call failed: #{e.message}"
  [500, JSON_TYPE, '{"error":"server_error"}']
end

# Reads one request (request line, headers; a body is not read: every route is a GET).
def read_request(client)
  method, target, = client.gets("\r\n", 8192)&.split(' ', 3)
  headers = {}
  MAX_HEADER_LINES.times do
    line = client.gets("\r\n", 8192)
    return nil if line.nil?
    break if line == "\r\n"

    name, value = line.split(':', 2)
    headers[name.strip.downcase] = value.to_s.strip
  end
  return nil unless method && target && headers.size < MAX_HEADER_LINES

  [method, URI(target).path, headers]
rescue URI::InvalidURIError
  nil
end

def serve(client)
  # A client that stops sending does not hold its thread for longer than this.
  request = Timeout.timeout(10) { read_request(client) }
  status, headers, body = request ? handle(*request) : [400, { 'Content-Type' => 'text/plain' }, 'Bad request']
  lines = ["HTTP/1.1 #{status} #{REASONS.fetch(status, '')}"]
  headers.each { |name, value| lines << "#{name}: #{value}" }
  lines << "Content-Length: #{body.bytesize}" << 'Connection: close'
  client.write(lines.join("\r\n"), "\r\n\r\n", body)
rescue IOError, SystemCallError, Timeout::Error
  nil # the client went away or stalled
ensure
  client.close
end

options = { host: 'localhost', port: 8081 }
OptionParser.new do |o|
  o.on('--host HOST') { |v| options[:host] = v }
  o.on('--port PORT', Integer) { |v| options[:port] = v }
end.parse!
server = TCPServer.new(options[:host], options[:port])
puts "resource server on http://#{options[:host]}:#{server.addr[1]}, authlete-grpc at #{SERVICE}"
$stdout.flush
loop do
  client = server.accept
  Thread.new(client) { |c| serve(c) }
end
