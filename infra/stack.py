"""IpadropStack: wires storage, CDN, processor, link API and keys together.

The dependency cycle (distribution -> API origin -> link function -> the
distribution's URL in its environment) is broken with an SSM parameter whose
name is fixed and derived from the stack name: the function gets the name, and
reads the value once at cold start. With a custom domain the URL is known
up front and goes into the environment directly.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import IpadropConfig
from infra.domain import CLOUDFRONT_CERTIFICATE_REGION, CertificateStack, CustomDomain
from infra.lambda_defaults import LambdaFactory
from infra.link_api import LinkApi
from infra.nag import acknowledge_all
from infra.people import Distribution
from infra.processor import Processor
from infra.signing_keys import SigningKeys
from infra.storage import BUILDS_PREFIX, RESULTS_PREFIX, UPLOADS_PREFIX, Cdn, Storage
from ipadrop.render.page import content_security_policy

# Output logical ids are read by `ipadrop --stack NAME`: never rename them.
OUTPUT_BUCKET_NAME = "BucketName"
OUTPUT_DROP_PREFIX = "DropPrefix"
OUTPUT_DISTRIBUTION_DOMAIN = "DistributionDomain"
OUTPUT_DISTRIBUTION_URL = "DistributionUrl"
OUTPUT_API_URL = "ApiUrl"


_PREFIX_REASONS = {
    f"{UPLOADS_PREFIX}*": "Uploads have build-system-chosen names; the grant stops at uploads/.",
    f"{BUILDS_PREFIX}*": "Build keys hold bundle and build ids known only at run time.",
    f"{BUILDS_PREFIX}*.json": "Build records and indexes only (JSON under builds/).",
    f"{RESULTS_PREFIX}*": "Result records mirror the upload names; the grant stops at results/.",
}
_GRANT_READ_REASONS = {
    "AwsSolutions-IAM5[Action::s3:GetObject*]": (
        "CDK's grant_read: GetObject with its version and tagging reads, on the prefixes only."
    ),
    "AwsSolutions-IAM5[Action::s3:GetBucket*]": (
        "CDK's grant_read: bucket-level metadata reads on this one bucket."
    ),
    "AwsSolutions-IAM5[Action::s3:List*]": (
        "CDK's grant_read: listing this one bucket (a HEAD of a missing key answers 404, "
        "not 403, and retention lists a build's folder)."
    ),
}


def distribution_url_parameter_name(stack_name: str) -> str:
    return f"/ipadrop/{stack_name}/distribution-url"


class IpadropStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: IpadropConfig,
        certificate: acm.ICertificate | None = None,
        env: cdk.Environment | None = None,
        cross_region_references: bool = False,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=config.stack_name,
            env=env,
            cross_region_references=cross_region_references,
            description="ipadrop: over-the-air distribution of in-house iOS apps",
        )
        self.config = config
        factory = LambdaFactory(self, "Lambda")

        self.domain: CustomDomain | None = None
        if config.domain_name is not None:
            self.domain = CustomDomain(
                self,
                "Domain",
                domain_name=config.domain_name,
                hosted_zone_name=config.hosted_zone_name,
                hosted_zone_id=config.hosted_zone_id,
                certificate_arn=config.certificate_arn,
                certificate=certificate,
            )

        self.storage = Storage(self, "Storage")
        bucket = self.storage.bucket

        self.keys: SigningKeys | None = None
        if not config.public_mode:
            self.keys = SigningKeys(
                self,
                "Keys",
                factory=factory,
                cloudfront_key_generation=config.cloudfront_key_generation,
            )

        # Where the link function learns the public base URL.
        self.distribution_url_parameter_name: str | None = None
        if self.domain is not None:
            url_environment = {"IPADROP_DISTRIBUTION_URL": self.domain.url}
        else:
            self.distribution_url_parameter_name = distribution_url_parameter_name(
                config.stack_name
            )
            url_environment = {
                "IPADROP_DISTRIBUTION_URL_PARAMETER": self.distribution_url_parameter_name
            }

        link_environment = {
            "IPADROP_BUCKET": bucket.bucket_name,
            **url_environment,
            "IPADROP_LINK_TTL_MIN_SECONDS": str(config.link_ttl_min_seconds),
            "IPADROP_LINK_TTL_MAX_SECONDS": str(config.link_ttl_max_seconds),
            "IPADROP_LINK_TTL_DEFAULT_SECONDS": str(config.link_ttl_default_seconds),
            "IPADROP_PUBLIC_MODE": "true" if config.public_mode else "false",
        }
        if self.keys is not None:
            link_environment |= {
                "IPADROP_TOKEN_SECRET_ID": self.keys.token_secret.secret_arn,
                "IPADROP_CLOUDFRONT_KEY_SECRET_ID": self.keys.cloudfront_key_secret.secret_arn,
                "IPADROP_CLOUDFRONT_KEY_PAIR_ID": self.keys.key_pair_id,
            }
        if config.contact is not None:
            link_environment["IPADROP_CONTACT"] = config.contact
        self.link_api = LinkApi(self, "LinkApi", factory=factory, environment=link_environment)

        self.cdn = Cdn(
            self,
            "Cdn",
            bucket=bucket,
            log_bucket=self.storage.log_bucket,
            api_domain_name=self.link_api.domain_name,
            key_group=self.keys.key_group if self.keys is not None else None,
            content_security_policy=content_security_policy(),
            certificate=self.domain.certificate if self.domain is not None else None,
            domain_names=[self.domain.domain_name] if self.domain is not None else (),
        )
        if self.domain is not None:
            self.domain.point_at(self.cdn.distribution)
        self.distribution_url = (
            self.domain.url if self.domain is not None else f"https://{self.cdn.domain_name}"
        )

        # The processor is not part of the cycle: it may take the URL directly.
        self.processor = Processor(
            self,
            "Processor",
            factory=factory,
            bucket=bucket,
            alarm_email=config.alarm_email,
            environment={
                "IPADROP_BUCKET": bucket.bucket_name,
                "IPADROP_DISTRIBUTION_URL": self.distribution_url,
                "IPADROP_KEEP_UPLOADS": "true" if config.keep_uploads else "false",
                "IPADROP_RETAIN_BUILDS": str(config.retain_builds),
            },
        )

        self.distribution_url_parameter: ssm.StringParameter | None = None
        if self.distribution_url_parameter_name is not None:
            self.distribution_url_parameter = ssm.StringParameter(
                self,
                "DistributionUrlParameter",
                parameter_name=self.distribution_url_parameter_name,
                string_value=self.distribution_url,
                description="ipadrop: public base URL, read by the link function at cold start",
            )

        # Groups, invitations, activity, e-mail, events (infra/people.py).
        self.distribution = Distribution(
            self,
            "Distribution",
            factory=factory,
            bucket=bucket,
            log_bucket=self.storage.log_bucket,
            link=self.link_api.function,
            processor=self.processor.function,
            token_secret=self.keys.token_secret if self.keys is not None else None,
            sender_email=config.sender_email,
            notify_email=config.notify_email,
            max_send_rate=config.ses_max_send_rate,
            domain_name=config.domain_name,
            zone=self.domain.zone if self.domain is not None else None,
        )

        self._grant_least_privilege()
        self._acknowledge_generated_findings()
        self._outputs()

    def _grant_least_privilege(self) -> None:
        processor = self.processor.function
        link = self.link_api.function

        # Processor: read the upload, write the build and the result record,
        # delete the upload (unless kept) and builds beyond retain_builds.
        # Of builds/ it reads only JSON (build records and indexes) to merge;
        # it reads result records to recognise a re-delivered event.
        self._grant_bucket(
            processor,
            read=[f"{UPLOADS_PREFIX}*", f"{BUILDS_PREFIX}*.json", f"{RESULTS_PREFIX}*"],
            put=[f"{BUILDS_PREFIX}*", f"{RESULTS_PREFIX}*"],
            delete=[f"{UPLOADS_PREFIX}*", f"{BUILDS_PREFIX}*"],
        )
        # Link: read builds; revoke rewrites build.json and the indexes (JSON
        # only) and deletes the build's files.
        self._grant_bucket(
            link,
            read=[f"{BUILDS_PREFIX}*"],
            put=[f"{BUILDS_PREFIX}*.json"],
            delete=[f"{BUILDS_PREFIX}*"],
        )
        if self.keys is not None:
            self.keys.token_secret.grant_read(link)
            self.keys.cloudfront_key_secret.grant_read(link)
        if self.distribution_url_parameter is not None:
            self.distribution_url_parameter.grant_read(link)

    def _grant_bucket(
        self,
        function: lambda_.Function,
        *,
        read: list[str],
        put: list[str],
        delete: list[str],
    ) -> None:
        """Prefix-scoped bucket grants, and an acknowledgment for each wildcard they imply."""
        bucket = self.storage.bucket
        for pattern in read:
            bucket.grant_read(function, pattern)
        for pattern in put:
            bucket.grant_put(function, pattern)
        for pattern in delete:
            bucket.grant_delete(function, pattern)

        bucket_ref = self.resolve(bucket.bucket_arn)["Fn::GetAtt"][0]
        findings = {
            f"AwsSolutions-IAM5[Resource::<{bucket_ref}.Arn>/{pattern}]": _PREFIX_REASONS[pattern]
            for pattern in dict.fromkeys([*read, *put, *delete])
        }
        if read:
            findings |= _GRANT_READ_REASONS
        if put:
            findings["AwsSolutions-IAM5[Action::s3:Abort*]"] = (
                "CDK's grant_put: aborting its own multipart uploads, on the granted prefixes only."
            )
        if delete:
            findings["AwsSolutions-IAM5[Action::s3:DeleteObject*]"] = (
                "CDK's grant_delete: DeleteObject and DeleteObjectVersion, on the prefixes only."
            )
        acknowledge_all(function, findings)

    def _acknowledge_generated_findings(self) -> None:
        """Findings on what CDK generates by itself, each with its reason."""
        # The S3 notification custom resource CDK adds once per stack.
        for child in self.node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                acknowledge_all(
                    child,
                    {
                        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                        "service-role/AWSLambdaBasicExecutionRole]": (
                            "CDK's bucket-notification handler: the managed policy only "
                            "writes its own logs."
                        ),
                    },
                )

    def _outputs(self) -> None:
        outputs = {
            OUTPUT_BUCKET_NAME: (self.storage.bucket.bucket_name, "Bucket for uploads and builds"),
            OUTPUT_DROP_PREFIX: (
                UPLOADS_PREFIX,
                "Key prefix in the bucket where build systems drop .ipa files",
            ),
            OUTPUT_DISTRIBUTION_DOMAIN: (
                self.cdn.domain_name,
                "CloudFront domain (point a CNAME here when certificate_arn is used)",
            ),
            OUTPUT_DISTRIBUTION_URL: (self.distribution_url, "Public base URL of install links"),
            OUTPUT_API_URL: (self.link_api.url, "Admin API (SigV4, service execute-api)"),
        }
        for logical_id, (value, description) in outputs.items():
            output = cdk.CfnOutput(self, logical_id, value=value, description=description)
            output.override_logical_id(logical_id)


def build_app(app: cdk.App, *, env: cdk.Environment | None = None) -> IpadropStack:
    """Create the stack (and, for a custom domain outside us-east-1, its certificate stack)."""
    from infra.config import IpadropConfig
    from infra.nag import add_nag_checks

    config = IpadropConfig.from_context(app.node.try_get_context)
    certificate: acm.ICertificate | None = None
    cross_region = False
    region = env.region if env is not None else None
    if config.needs_certificate_stack and region != CLOUDFRONT_CERTIFICATE_REGION:
        if env is None or env.account is None or region is None:
            from infra.config import ConfigError

            raise ConfigError(
                "a custom domain needs a concrete account and region: set AWS credentials "
                "(or CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION) before cdk synth/deploy"
            )
        certificate_stack = CertificateStack(
            app,
            f"{config.stack_name}Certificate",
            domain_name=config.domain_name or "",
            hosted_zone_name=config.hosted_zone_name or "",
            hosted_zone_id=config.hosted_zone_id,
            account=env.account,
            stack_name=f"{config.stack_name}-certificate",
        )
        certificate = certificate_stack.certificate
        cross_region = True
    stack = IpadropStack(
        app,
        config.stack_name,
        config=config,
        certificate=certificate,
        env=env,
        cross_region_references=cross_region,
    )
    add_nag_checks(app)
    return stack
