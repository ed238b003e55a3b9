#!/usr/bin/env python3
"""Extracts, from Authlete's OpenAPI v3 spec, the JSON Schema of the 200 reply
of every API the local engine answers (plus `result`, Authlete's error body),
into openapi_response_schemas.json, for tests/local_schema.rs.

The schemas are made self-contained JSON Schema draft 4: `$ref`s are inlined,
OpenAPI's `nullable: true` becomes a `null` alternative in `type`, and the
annotation-only keywords (description, example, format, readOnly, ...) are
dropped, since they do not constrain values.

Usage: python3 tests/contract/extract_response_schemas.py ../shared/reference/authlete-openapi-v3.yaml
"""
import json
import sys

import yaml

APIS = [
    "/auth/authorization",
    "/auth/authorization/issue",
    "/auth/authorization/fail",
    "/pushed_auth_req",
    "/auth/token",
    "/auth/token/issue",
    "/auth/token/fail",
    "/auth/token/create",
    "/auth/token/update",
    "/auth/token/revoke",
    "/auth/token/get/list",
    "/auth/introspection",
    "/auth/introspection/standard",
    "/auth/revocation",
    "/auth/userinfo",
    "/auth/userinfo/issue",
    "/service/configuration",
    "/device/authorization",
    "/device/verification",
    "/device/complete",
    "/client/registration",
    "/client/registration/get",
    "/client/registration/update",
    "/client/registration/delete",
    "/backchannel/authentication",
    "/backchannel/authentication/issue",
    "/backchannel/authentication/fail",
    "/backchannel/authentication/complete",
]

# The spec's /service/jwks/get path has no operation; its reply schema exists.
EXTRA = {"/service/jwks/get": "service_jwks_get_response", "result": "result"}

DROPPED = {"description", "example", "examples", "format", "readOnly", "writeOnly", "deprecated",
           "externalDocs", "xml", "discriminator", "title"}


def main(path):
    spec = yaml.safe_load(open(path))

    def resolve(ref):
        target = spec
        for part in ref.split("/")[1:]:
            target = target[part]
        return target

    def convert(node, seen):
        if isinstance(node, list):
            return [convert(n, seen) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:  # a recursive schema: accept anything below this point
                return {}
            return convert(resolve(ref), seen | {ref})
        out = {}
        for key, value in node.items():
            if key in DROPPED:
                continue
            if key == "properties":
                out[key] = {name: convert(v, seen) for name, v in value.items()}
            else:
                out[key] = convert(value, seen)
        if out.pop("nullable", False):
            kind = out.get("type")
            if isinstance(kind, str):
                out["type"] = [kind, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = out["enum"] + [None]
        return out

    schemas = {}
    for api in APIS:
        operation = next(v for k, v in spec["paths"]["/api/{serviceId}" + api].items() if k in ("get", "post"))
        ok = operation["responses"]["200"]
        if "$ref" in ok:
            ok = resolve(ok["$ref"])
        schemas[api] = convert(ok["content"]["application/json"]["schema"], frozenset())
    for name, schema in EXTRA.items():
        schemas[name] = convert(spec["components"]["schemas"][schema], frozenset())
    json.dump(schemas, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
