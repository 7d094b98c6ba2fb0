"""Web hosting (CloudFront + S3), its runtime config.json, and the Cognito user pool."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra.constants import FN_USER_SYNC
from tests.infrastructure.conftest import Synthesized

pytestmark = pytest.mark.infrastructure


def test_cloudfront_reads_the_bucket_through_origin_access_control(dev: Synthesized) -> None:
    # Given the distribution and its origin access control
    oac = dev.logical_id("AWS::CloudFront::OriginAccessControl")
    dev.template.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {
            "OriginAccessControlConfig": {
                "Name": Match.any_value(),
                "OriginAccessControlOriginType": "s3",
                "SigningBehavior": "always",
                "SigningProtocol": "sigv4",
            }
        },
    )
    (distribution,) = dev.of_type("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    # Then the S3 origin signs with OAC and has no legacy origin access identity
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    # And viewers are sent to HTTPS, served index.html, and config.json is never cached
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"
    (config_behavior,) = config["CacheBehaviors"]
    assert config_behavior["PathPattern"] == "/config.json"
    assert config_behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # disabled
    # And only CloudFront (this distribution) may read the bucket
    web_bucket = origin["DomainName"]["Fn::GetAtt"][0]
    (policy,) = [
        p["Properties"]["PolicyDocument"] for p in dev.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": web_bucket}
    ]  # fmt: skip
    (read,) = [
        s for s in policy["Statement"] if s["Effect"] == "Allow" and "s3:GetObject" in str(s)
    ]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert "AWS:SourceArn" in str(read["Condition"])


def test_config_json_is_written_at_deploy_time_from_the_stack(dev: Synthesized) -> None:
    # Given the deployment that publishes index.html and config.json
    (site,) = [
        d["Properties"] for d in dev.of_type("Custom::CDKBucketDeployment").values()
        if d["Properties"].get("Prune") is True
    ]  # fmt: skip
    markers: dict[str, Any] = {k: v for m in site["SourceMarkers"] for k, v in m.items()}
    # When reading the staged config.json, whose deploy-time values are markers
    (staged,) = list(dev.outdir.glob("asset.*/config.json"))
    config = json.loads(re.sub(r"(<<marker:[^>]+>>)", r'"\1"', staged.read_text()))

    def resolved(value: str) -> str:
        return str(markers[value]) if value in markers else value

    # Then it has the shape the web client reads (web/src/config.ts)
    assert config["mode"] == "cognito"
    assert set(config["cognito"]) >= {"domain", "clientId", "redirectUri", "scopes"}
    # And its values come from the stack: the WebSocket stage, the HTTP API, Cognito
    assert "wss://" in resolved(config["wsUrl"])
    assert "ApiEndpoint" in resolved(config["apiBase"])
    assert ".auth." in resolved(config["cognito"]["domain"])
    assert dev.logical_id("AWS::Cognito::UserPoolClient") in resolved(config["cognito"]["clientId"])
    assert "WebDistribution" in resolved(config["cognito"]["redirectUri"])
    # And the edge caches are invalidated, index.html revalidated on every load
    assert site["DistributionPaths"] == ["/*"]
    assert site["SystemMetadata"] == {"cache-control": "no-cache"}


def test_user_pool_is_admin_provisioned_with_hosted_pkce_sign_in(dev: Synthesized) -> None:
    # Given the user pool and its web client
    dev.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "UsernameAttributes": ["email"],
            "Policies": {"PasswordPolicy": Match.object_like({"MinimumLength": 12})},
        },
    )
    (client,) = dev.of_type("AWS::Cognito::UserPoolClient").values()
    properties = client["Properties"]
    # Then the client is public (PKCE, no secret) and uses the code flow on the hosted UI
    assert properties["GenerateSecret"] is False
    assert properties["AllowedOAuthFlows"] == ["code"]
    assert properties["AllowedOAuthFlowsUserPoolClient"] is True
    assert set(properties["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert properties["SupportedIdentityProviders"] == ["COGNITO"]
    # And it returns to the CloudFront URL (and, on dev, to the local Vite server)
    callbacks = properties["CallbackURLs"]
    assert "http://localhost:5173/" in callbacks
    assert any("WebDistribution" in str(url) for url in callbacks)
    dev.template.resource_count_is("AWS::Cognito::UserPoolDomain", 1)


def test_user_sync_trigger_keeps_the_directory_in_step(dev: Synthesized) -> None:
    # Given the user pool's triggers
    (pool,) = dev.of_type("AWS::Cognito::UserPool").values()
    triggers = pool["Properties"]["LambdaConfig"]
    user_sync = {"Fn::GetAtt": [dev.function_id(FN_USER_SYNC.service), "Arn"]}
    # Then post-confirmation and pre-token-generation both run user_sync
    assert triggers["PostConfirmation"] == user_sync
    assert triggers["PreTokenGeneration"] == user_sync
    # And Cognito may invoke it
    dev.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": user_sync,
            "Principal": "cognito-idp.amazonaws.com",
        },
    )


def test_production_requires_mfa_and_protects_the_pool(prod: Synthesized) -> None:
    # Given the prod stage's user pool
    prod.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {"MfaConfiguration": "ON", "DeletionProtection": "ACTIVE"},
    )
    prod.template.has_resource("AWS::Cognito::UserPool", {"DeletionPolicy": "Retain"})
    # And its client admits the CloudFront URL only
    (client,) = prod.of_type("AWS::Cognito::UserPoolClient").values()
    assert not [u for u in client["Properties"]["CallbackURLs"] if "localhost" in str(u)]


def test_site_csp_loads_images_only_from_itself_and_the_attachments_bucket(
    stage: Synthesized,
) -> None:
    # Given the distribution's behaviours and their response headers policy
    (distribution,) = stage.of_type("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    policies = {json.dumps(b["ResponseHeadersPolicyId"]) for b in behaviours}
    # Then every behaviour (index.html and config.json alike) uses the one custom policy
    (policy_ref,) = policies
    policy = stage.resources[json.loads(policy_ref)["Ref"]]["Properties"]
    headers = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    # And its CSP's img-src admits this site, data:/blob: previews and the attachments
    # bucket's own origins (what presigned GETs point at), and nothing else: an image
    # that points anywhere else in a message or a report does not load
    csp = headers["ContentSecurityPolicy"]
    assert csp["Override"] is True
    parts = csp["ContentSecurityPolicy"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else f"<{next(iter(p.values()))}>" for p in parts)
    directives = {d.split()[0]: d.split()[1:] for d in text.split("; ")}
    bucket = f"warroom-{stage.config.name}-attachments-<AWS::AccountId>-<AWS::Region>"
    assert directives["img-src"] == [
        "'self'",
        "data:",
        "blob:",
        f"https://{bucket}.s3.<AWS::Region>.<AWS::URLSuffix>",
        f"https://{bucket}.s3.<AWS::URLSuffix>",
    ]
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    # And that bucket is the attachments bucket (the one with CORS), by name
    (attachments,) = [
        b["Properties"] for b in stage.of_type("AWS::S3::Bucket").values()
        if "CorsConfiguration" in b["Properties"]
    ]  # fmt: skip
    name = attachments["BucketName"]["Fn::Join"][1]
    assert "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in name) == bucket
    # And the usual security headers stay on
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"


def test_web_client_allows_only_the_flows_in_use(dev: Synthesized) -> None:
    # Given the web client of the user pool
    (client,) = dev.of_type("AWS::Cognito::UserPoolClient").values()
    flows = set(client["Properties"]["ExplicitAuthFlows"])
    # Then the browser's hosted-UI sign-in needs no explicit flow: SRP and plain passwords
    # are off; `make smoke` signs in with AdminInitiateAuth (IAM-signed, not for browsers)
    assert flows == {"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}


def test_nobody_can_take_another_users_email(stage: Synthesized) -> None:
    # Given the user pool and its web client
    (pool,) = stage.of_type("AWS::Cognito::UserPool").values()
    (client,) = stage.of_type("AWS::Cognito::UserPoolClient").values()
    # Then a new e-mail takes effect only once verified (the old one stays till then)
    update = pool["Properties"]["UserAttributeUpdateSettings"]
    assert update["AttributesRequireVerificationBeforeUpdate"] == ["email"]
    # And through the web client a user may write their name, not their e-mail
    assert client["Properties"]["WriteAttributes"] == ["name"]
