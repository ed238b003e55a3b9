<?php
// A Connect (connectrpc.com) client for authlete-grpc in a page of plain PHP:
// every RPC is `POST /authlete.v1.<Service>/<Method>` with the request message
// as proto3 JSON (lowerCamelCase names, enums as strings, int64 as strings).
// Needs only the curl and json extensions; no gRPC extension, no Composer.

final class ServiceError extends RuntimeException
{
}

final class Connect
{
    public function __construct(
        private string $baseUrl,      // http://localhost:50051
        private float $timeout,       // seconds: the deadline of each call
        private string $callerKey = '' // a bearer caller key, when the service asks for one
    ) {
    }

    public static function fromEnvironment(): self
    {
        return new self(
            rtrim(getenv('AUTHLETE_GRPC_URL') ?: 'http://localhost:50051', '/'),
            (float) (getenv('AUTHLETE_GRPC_TIMEOUT') ?: 10),
            getenv('AUTHLETE_GRPC_CALLER_KEY') ?: ''
        );
    }

    /** Calls `authlete.v1.$service/$method` with $request (an array or object). */
    public function call(string $service, string $method, array|object $request): array
    {
        $body = json_encode((object) $request, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        return $this->send("authlete.v1.$service/$method", $body);
    }

    private function send(string $rpc, string $body): array
    {
        $ms = (int) ($this->timeout * 1000);
        $headers = ['Content-Type: application/json', 'Connect-Protocol-Version: 1',
            "Connect-Timeout-Ms: $ms"];
        if ($this->callerKey !== '') {
            $headers[] = "Authorization: Bearer {$this->callerKey}";
        }
        $curl = curl_init("{$this->baseUrl}/$rpc");
        curl_setopt_array($curl, [
            CURLOPT_POST => true, CURLOPT_POSTFIELDS => $body, CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT_MS => $ms + 500, // the service answers first
            CURLOPT_CONNECTTIMEOUT_MS => min($ms, 2000), CURLOPT_MAXFILESIZE => 4 << 20,
        ]);
        $reply = curl_exec($curl);
        $status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        $failure = curl_errno($curl) ? 'transport: ' . curl_strerror(curl_errno($curl)) : '';
        curl_close($curl);
        if ($failure === '' && $status !== 200) {
            // A Connect error body: {"code": "unavailable", "message": ..., "details": [...]}.
            // Only the code is kept: the message may name things a browser should not see.
            $error = json_decode((string) $reply, true);
            $failure = 'connect: ' . (is_array($error) ? ($error['code'] ?? "http $status") : "http $status");
        }
        if ($failure !== '') {
            throw new ServiceError("$rpc failed ($failure)");
        }
        $message = json_decode($reply, true);
        if (!is_array($message)) {
            throw new ServiceError("$rpc failed (a reply that is not a JSON object)");
        }
        return $message;
    }
}
