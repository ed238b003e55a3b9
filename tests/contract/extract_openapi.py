#!/usr/bin/env python3
"""Extracts, from Authlete's OpenAPI v3 spec, the request members and `action`
values of the APIs this service mirrors, into openapi_contract.json.

Usage: python3 tests/contract/extract_openapi.py ../shared/reference/authlete-openapi-v3.yaml
"""
import json
import sys

import yaml

APIS = {
    "/auth/authorization": ("AuthorizationRequest", "AuthorizationResponse"),
    "/auth/authorization/issue": ("AuthorizationIssueRequest", "AuthorizationIssueResponse"),
    "/auth/authorization/fail": ("AuthorizationFailRequest", "AuthorizationFailResponse"),
    "/pushed_auth_req": ("PushedAuthorizationRequest", "PushedAuthorizationResponse"),
    "/auth/token": ("TokenRequest", "TokenResponse"),
    "/auth/token/issue": ("TokenIssueRequest", "TokenIssueResponse"),
    "/auth/token/fail": ("TokenFailRequest", "TokenFailResponse"),
    "/auth/introspection": ("IntrospectionRequest", "IntrospectionResponse"),
    "/auth/introspection/standard": ("StandardIntrospectionRequest", "StandardIntrospectionResponse"),
    "/auth/revocation": ("RevocationRequest", "RevocationResponse"),
    "/auth/userinfo": ("UserInfoRequest", "UserInfoResponse"),
    "/auth/userinfo/issue": ("UserInfoIssueRequest", "UserInfoIssueResponse"),
    "/service/configuration": ("ServiceConfigurationRequest", "ServiceConfigurationResponse"),
    "/backchannel/authentication": ("BackchannelAuthenticationRequest", "BackchannelAuthenticationResponse"),
    "/backchannel/authentication/issue": ("BackchannelAuthenticationIssueRequest", "BackchannelAuthenticationIssueResponse"),
    "/backchannel/authentication/fail": ("BackchannelAuthenticationFailRequest", "BackchannelAuthenticationFailResponse"),
    "/backchannel/authentication/complete": ("BackchannelAuthenticationCompleteRequest", "BackchannelAuthenticationCompleteResponse"),
    "/device/authorization": ("DeviceAuthorizationRequest", "DeviceAuthorizationResponse"),
    "/device/verification": ("DeviceVerificationRequest", "DeviceVerificationResponse"),
    "/device/complete": ("DeviceCompleteRequest", "DeviceCompleteResponse"),
    "/client/registration": ("ClientRegistrationRequest", "ClientRegistrationResponse"),
    "/client/registration/get": ("ClientRegistrationGetRequest", "ClientRegistrationGetResponse"),
    "/client/registration/update": ("ClientRegistrationUpdateRequest", "ClientRegistrationUpdateResponse"),
    "/client/registration/delete": ("ClientRegistrationDeleteRequest", "ClientRegistrationDeleteResponse"),
    "/gm": ("GrantManagementRequest", "GrantManagementResponse"),
    "/idtoken/reissue": ("IdTokenReissueRequest", "IdTokenReissueResponse"),
    "/nativesso": ("NativeSsoRequest", "NativeSsoResponse"),
    "/nativesso/logout": ("NativeSsoLogoutRequest", "NativeSsoLogoutResponse"),
    "/federation/configuration": ("FederationConfigurationRequest", "FederationConfigurationResponse"),
    "/federation/registration": ("FederationRegistrationRequest", "FederationRegistrationResponse"),
    "/auth/authorization/ticket/info": ("AuthorizationTicketInfoRequest", "AuthorizationTicketInfoResponse"),
    "/auth/authorization/ticket/update": ("AuthorizationTicketUpdateRequest", "AuthorizationTicketUpdateResponse"),
    "/auth/token/create": ("TokenCreateRequest", "TokenCreateResponse"),
    "/auth/token/update": ("TokenUpdateRequest", "TokenUpdateResponse"),
    "/auth/token/revoke": ("TokenRevokeRequest", "TokenRevokeResponse"),
    "/auth/token/get/list": ("TokenListRequest", "TokenListResponse"),
    "/auth/token/delete/{accessTokenIdentifier}": ("TokenDeleteRequest", "TokenDeleteResponse"),
    "/vci/metadata": ("CredentialIssuerMetadataRequest", "CredentialIssuerMetadataResponse"),
    "/vci/jwtissuer": ("CredentialJwtIssuerMetadataRequest", "CredentialJwtIssuerMetadataResponse"),
    "/vci/jwks": ("CredentialIssuerJwksRequest", "CredentialIssuerJwksResponse"),
    "/vci/offer/create": ("CredentialOfferCreateRequest", "CredentialOfferCreateResponse"),
    "/vci/offer/info": ("CredentialOfferInfoRequest", "CredentialOfferInfoResponse"),
    "/vci/single/parse": ("CredentialSingleParseRequest", "CredentialSingleParseResponse"),
    "/vci/single/issue": ("CredentialSingleIssueRequest", "CredentialSingleIssueResponse"),
    "/vci/batch/parse": ("CredentialBatchParseRequest", "CredentialBatchParseResponse"),
    "/vci/batch/issue": ("CredentialBatchIssueRequest", "CredentialBatchIssueResponse"),
    "/vci/deferred/parse": ("CredentialDeferredParseRequest", "CredentialDeferredParseResponse"),
    "/vci/deferred/issue": ("CredentialDeferredIssueRequest", "CredentialDeferredIssueResponse"),
}


def main(path):
    spec = yaml.safe_load(open(path))

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            target = spec
            for part in node["$ref"].split("/")[1:]:
                target = target[part]
            node = target
        return node

    def properties(schema):
        schema = resolve(schema)
        out = dict(schema.get("properties") or {})
        for part in schema.get("allOf", []):
            out.update(properties(part))
        return out

    contract = {}
    for api, (request, response) in APIS.items():
        operation = next(v for k, v in spec["paths"]["/api/{serviceId}" + api].items()
                         if k in ("get", "post", "delete"))
        members = [p["name"] for p in map(resolve, operation.get("parameters") or [])
                   if p.get("in") == "query" or (p.get("in") == "path" and p["name"] != "serviceId")]
        body = ((operation.get("requestBody") or {}).get("content") or {}).get("application/json")
        if body:
            members += list(properties(body["schema"]))
        enums = {}
        for name, prop in properties(body["schema"]).items() if body else []:
            prop = resolve(prop)
            if prop.get("enum"):
                enums[name] = prop["enum"]
        ok = resolve(operation["responses"].get("200") or {})
        # 204 (token delete): no reply body, so no members.
        reply = properties(ok["content"]["application/json"]["schema"]) if ok else {}
        actions = resolve(reply["action"]).get("enum", []) if "action" in reply else []
        contract[api] = {
            "request_message": request,
            "response_message": response,
            "request_members": members,
            "request_enums": enums,
            "actions": actions,
            "response_members": list(reply),
        }
    json.dump(contract, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
