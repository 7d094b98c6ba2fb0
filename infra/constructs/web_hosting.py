"""The web client: a private bucket behind CloudFront (origin access control).

The built client comes from web/dist (or a placeholder page when it has not been built,
so that synth never depends on the web build). `config.json`, the client's only runtime
configuration, is written at deploy time from the stack's own outputs (API URLs, the
Cognito domain and client id) with `Source.json_data`, so the same build runs on any stage.

Every response carries the security headers and a Content-Security-Policy whose
`img-src` admits only this site, `data:`/`blob:` (previews made in the browser) and the
attachments bucket (presigned GETs): an image in a message or a report that points
anywhere else does not load, so nobody can learn who opened it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.constants import WEB_CONFIG_FILE, WEB_DIST_DIR, WEB_PLACEHOLDER_DIR
from infra.constructs.common import private_bucket
from infra.constructs.nag import LAMBDA_BASIC_EXECUTION, acknowledge, arn_finding, finding

# Vite writes content-hashed files under assets/: they can be cached for good.
HASHED_ASSETS_DIR = "assets"
# Both deployments share one handler function only when their settings are equal.
DEPLOYMENT_MEMORY_MB = 512


def content_security_policy(image_origins: list[str]) -> str:
    """The site's CSP. The client talks to the APIs, Cognito and S3 over https/wss."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            " ".join(["img-src 'self' data: blob:", *image_origins]),
            "connect-src 'self' https: wss:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def resolve_web_dir(configured: str | None) -> Path:
    """The client build to publish: the configured folder, web/dist, or the placeholder."""
    if configured:
        return Path(configured).resolve()
    if (WEB_DIST_DIR / "index.html").is_file():
        return WEB_DIST_DIR
    return WEB_PLACEHOLDER_DIR


class WebHosting(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        web_dir: Path,
        access_logs: s3.IBucket,
        is_production: bool,
        image_origins: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self._web_dir = web_dir
        self.bucket = private_bucket(
            self,
            "Bucket",
            access_logs=access_logs,
            access_logs_prefix="web/",
            # Only build output lives here: it is re-published on every deploy.
            retain=False,
        )
        origin = origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        spa_fallback = [
            # With OAC and no s3:ListBucket, a missing key is a 403: serve the client,
            # whose router decides what the path means.
            cloudfront.ErrorResponse(
                http_status=status,
                response_http_status=200,
                response_page_path="/index.html",
                ttl=Duration.seconds(0),
            )
            for status in (403, 404)
        ]
        headers = self._response_headers(image_origins)
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="War room web client",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            additional_behaviors={
                f"/{WEB_CONFIG_FILE}": cloudfront.BehaviorOptions(
                    origin=origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    response_headers_policy=headers,
                )
            },
            error_responses=spa_fallback,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=(
                cloudfront.PriceClass.PRICE_CLASS_ALL
                if is_production
                else cloudfront.PriceClass.PRICE_CLASS_100
            ),
            enable_logging=True,
            log_bucket=access_logs,
            log_file_prefix="cloudfront/",
        )
        self.url = f"https://{self.distribution.distribution_domain_name}"
        for rule, reason in (
            ("AwsSolutions-CFR1", "Staff sign in from anywhere during an incident: no geo block."),
            (
                "AwsSolutions-CFR2",
                "Static files only; the APIs are behind Cognito and API Gateway throttling."
                " Add a WAF web ACL here if the threat model asks for it.",
            ),
            (
                "AwsSolutions-CFR4",
                "The default *.cloudfront.net certificate (no custom domain yet): CloudFront"
                " fixes its TLS policy. Set a certificate and TLSv1.2_2021 with a domain.",
            ),
        ):
            acknowledge(self.distribution, rule, reason)

    def _response_headers(self, image_origins: list[str]) -> cloudfront.ResponseHeadersPolicy:
        """AWS's managed SECURITY_HEADERS, plus the CSP (and frames refused outright)."""
        return cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment="War room: security headers and CSP",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(image_origins),
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365),
                    include_subdomains=True,
                    override=True,
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(
                    protection=True, mode_block=True, override=True
                ),
            ),
        )

    def publish(self, site_config: dict[str, Any]) -> None:
        """Upload the client and write config.json; call once every URL it names exists."""
        assets_dir = self._web_dir / HASHED_ASSETS_DIR
        assets: s3deploy.BucketDeployment | None = None
        if assets_dir.is_dir():
            assets = s3deploy.BucketDeployment(
                self,
                "HashedAssets",
                sources=[s3deploy.Source.asset(str(assets_dir))],
                destination_bucket=self.bucket,
                destination_key_prefix=f"{HASHED_ASSETS_DIR}/",
                # Keep earlier builds' files: open tabs still load them after a deploy.
                prune=False,
                cache_control=[
                    s3deploy.CacheControl.set_public(),
                    s3deploy.CacheControl.max_age(Duration.days(365)),
                    s3deploy.CacheControl.immutable(),
                ],
                memory_limit=DEPLOYMENT_MEMORY_MB,
            )
            _acknowledge_deployment_handler(assets, self.bucket)
        site = s3deploy.BucketDeployment(
            self,
            "Site",
            sources=[
                s3deploy.Source.asset(str(self._web_dir), exclude=[HASHED_ASSETS_DIR]),
                s3deploy.Source.json_data(WEB_CONFIG_FILE, site_config),
            ],
            destination_bucket=self.bucket,
            exclude=[f"{HASHED_ASSETS_DIR}/*"],  # neither uploaded nor pruned here
            prune=True,
            # index.html and config.json name everything else: always revalidate them.
            cache_control=[s3deploy.CacheControl.no_cache()],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=DEPLOYMENT_MEMORY_MB,
        )
        _acknowledge_deployment_handler(site, self.bucket)
        if assets is not None:
            site.node.add_dependency(assets)


def _acknowledge_deployment_handler(
    deployment: s3deploy.BucketDeployment, bucket: s3.IBucket
) -> None:
    """The copy function aws-cdk-lib makes for BucketDeployment: its grants are CDK's own."""
    handler = deployment.handler_role.node.scope
    assert handler is not None
    for rule, reason in (
        (
            finding("AwsSolutions-IAM4", LAMBDA_BASIC_EXECUTION),
            "aws-cdk-lib's BucketDeployment function logs with AWSLambdaBasicExecutionRole.",
        ),
        (
            "AwsSolutions-L1",
            "aws-cdk-lib picks and updates the BucketDeployment function's runtime.",
        ),
    ):
        acknowledge(handler, rule, reason)
    for item in (
        "Action::s3:GetBucket*",
        "Action::s3:GetObject*",
        "Action::s3:List*",
        "Action::s3:Abort*",
        "Action::s3:DeleteObject*",
        "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
        "Resource::*",
    ):
        acknowledge(
            handler,
            finding("AwsSolutions-IAM5", item),
            "aws-cdk-lib's BucketDeployment grant: read the staged asset, sync and prune the"
            " web bucket, invalidate the distribution (CloudFront has no resource scoping).",
        )
    acknowledge(
        handler,
        arn_finding(bucket, "/*"),
        "aws-cdk-lib's BucketDeployment writes every object of the web bucket.",
    )
