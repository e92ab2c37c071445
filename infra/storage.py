"""The bucket (uploads, builds, results), its log bucket, and the CloudFront distribution."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge
from infra.naming import account_wide_name
from ipadrop.domain.bucket_keys import BUILDS_PREFIX, RESULTS_PREFIX, UPLOADS_PREFIX


class Storage(Construct):
    """The artefact bucket and the log bucket both it and CloudFront write to."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        upload_expiry_days: int = 30,
        result_expiry_days: int = 90,
        noncurrent_version_expiry_days: int = 30,
        log_expiry_days: int = 90,
    ) -> None:
        super().__init__(scope, construct_id)

        self.log_bucket = _private_bucket(
            self,
            "LogBucket",
            # CloudFront standard logging writes with ACLs (the log-delivery account).
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-logs", expiration=cdk.Duration.days(log_expiry_days)),
                s3.LifecycleRule(
                    id="abort-multipart",
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                ),
            ],
        )
        self.bucket = _private_bucket(
            self,
            "Bucket",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="s3-access/",
            lifecycle_rules=[
                # Rejected uploads (and kept ones) do not pile up forever.
                s3.LifecycleRule(
                    id="expire-uploads",
                    prefix=UPLOADS_PREFIX,
                    expiration=cdk.Duration.days(upload_expiry_days),
                ),
                s3.LifecycleRule(
                    id="expire-results",
                    prefix=RESULTS_PREFIX,
                    expiration=cdk.Duration.days(result_expiry_days),
                ),
                # Versioning protects against mistakes, not as an archive.
                s3.LifecycleRule(
                    id="expire-old-versions",
                    noncurrent_version_expiration=cdk.Duration.days(noncurrent_version_expiry_days),
                    expired_object_delete_marker=True,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                ),
            ],
        )


def _private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    object_ownership: s3.ObjectOwnership,
    lifecycle_rules: Sequence[s3.LifecycleRule],
    versioned: bool = False,
    server_access_logs_bucket: s3.IBucket | None = None,
    server_access_logs_prefix: str | None = None,
) -> s3.Bucket:
    """Every bucket here: public access blocked, S3-managed encryption, TLS only,
    kept when the stack is deleted (builds and logs outlive a teardown)."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        object_ownership=object_ownership,
        versioned=versioned,
        server_access_logs_bucket=server_access_logs_bucket,
        server_access_logs_prefix=server_access_logs_prefix,
        lifecycle_rules=list(lifecycle_rules),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


class Cdn(Construct):
    """CloudFront before the bucket (``builds/*``, signed) and the link API (``i/*``, ``m/*``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        log_bucket: s3.IBucket | None,
        api_domain_name: str,
        key_group: cloudfront.IKeyGroup | None,
        content_security_policy: str,
        certificate: acm.ICertificate | None = None,
        domain_names: Sequence[str] = (),
        price_class: cloudfront.PriceClass = cloudfront.PriceClass.PRICE_CLASS_100,
        build_cache_ttl_seconds: int = 3600,
    ) -> None:
        super().__init__(scope, construct_id)
        trusted_key_groups = [key_group] if key_group is not None else None

        self.response_headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=account_wide_name(self, "headers"),
            comment="ipadrop: HSTS, nosniff, no framing, no referrer, CSP for the install page",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(730),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy, override=True
                ),
            ),
        )

        # Signed URLs carry Expires/Signature/Key-Pair-Id (or Policy): caching
        # on them would store one copy per link. CloudFront checks the
        # signature before the cache, so the key can ignore query strings.
        self.builds_cache_policy = cloudfront.CachePolicy(
            self,
            "BuildsCache",
            cache_policy_name=account_wide_name(self, "builds-cache"),
            comment="ipadrop builds/*: ignore query strings (signatures), cookies and headers",
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            default_ttl=cdk.Duration.seconds(build_cache_ttl_seconds),
            min_ttl=cdk.Duration.seconds(0),
            max_ttl=cdk.Duration.days(1),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )

        # Bind the origin to a reference of the bucket so CDK does not add its
        # own OAC statement (GetObject on every key, uploads/ and results/
        # included); the statement below grants CloudFront builds/* only.
        origin_bucket = s3.Bucket.from_bucket_attributes(
            self,
            "OriginBucket",
            bucket_arn=bucket.bucket_arn,
            bucket_regional_domain_name=bucket.bucket_regional_domain_name,
        )
        self.origin_access_control = cloudfront.S3OriginAccessControl(
            self,
            "OriginAccessControl",
            origin_access_control_name=account_wide_name(self, "oac"),
            description="ipadrop: CloudFront reads builds/* of this stack's bucket",
        )
        s3_origin = origins.S3BucketOrigin.with_origin_access_control(
            origin_bucket,
            origin_access_control=self.origin_access_control,
            origin_access_levels=[cloudfront.AccessLevel.READ],
        )
        api_origin = origins.HttpOrigin(
            api_domain_name,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        )
        s3_behavior = cloudfront.BehaviorOptions(
            origin=s3_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=self.builds_cache_policy,
            response_headers_policy=self.response_headers_policy,
            trusted_key_groups=trusted_key_groups,
            compress=True,
        )
        api_behavior = cloudfront.BehaviorOptions(
            origin=api_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # API Gateway routes on its own Host name; everything else goes through.
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self.response_headers_policy,
            compress=True,
        )
        # Device enrollment: iOS POSTs its signed answer to /d/<token>/enroll.
        device_behavior = cloudfront.BehaviorOptions(
            origin=api_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self.response_headers_policy,
            compress=True,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="ipadrop: install pages, manifests and builds",
            # Anything that is not a page, a manifest or a build is a bucket
            # object too, and as private as builds/*.
            default_behavior=s3_behavior,
            additional_behaviors={
                f"{BUILDS_PREFIX}*": s3_behavior,
                "i/*": api_behavior,
                "m/*": api_behavior,
                "d/*": device_behavior,
            },
            certificate=certificate,
            domain_names=list(domain_names) or None,
            # Only meaningful with a custom certificate (the default one is fixed).
            minimum_protocol_version=(
                cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_ipv6=True,
            price_class=price_class,
            # None: no standard logs (opt-in regions, where CloudFront cannot deliver).
            enable_logging=log_bucket is not None,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/" if log_bucket is not None else None,
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudFrontReadsBuildsOnly",
                actions=["s3:GetObject"],
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                resources=[bucket.arn_for_objects(f"{BUILDS_PREFIX}*")],
                conditions={"StringEquals": {"AWS:SourceArn": self.distribution.distribution_arn}},
            )
        )
        acknowledge(
            self.distribution,
            "Annotation::@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac",
            "The bucket policy statement for this distribution is added explicitly "
            "(CloudFrontReadsBuildsOnly), scoped to builds/*.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Testers may be anywhere; access is controlled by short-lived tokens and signed URLs.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "WAF costs more than the whole stack; pages need a valid token, builds a "
            "CloudFront signature, and the API stage is throttled.",
        )
        if log_bucket is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR3",
                "cloudfront_logs=false: chosen by the operator (opt-in regions, where CloudFront "
                "standard logging cannot deliver); API access logs and S3 access logs remain.",
            )
        if certificate is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR4",
                "Without a custom domain the distribution uses the *.cloudfront.net "
                "certificate, whose TLS policy CloudFront fixes; custom domains get TLSv1.2_2021.",
            )

    @property
    def domain_name(self) -> str:
        return self.distribution.distribution_domain_name
