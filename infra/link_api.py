"""The link function behind an HTTP API: IAM-authenticated admin routes, and the
two public routes (install page, manifest) where the token is the authorization."""

from __future__ import annotations

import json
from collections.abc import Mapping

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.lambda_defaults import LambdaFactory
from infra.nag import acknowledge
from ipadrop.settings import DISTRIBUTION_ADMIN_ROUTES

LINK_HANDLER = "ipadrop.handlers.link.handler"
# The same routes behind SnapStart hooks (install page and manifest only).
PUBLIC_HANDLER = "ipadrop.handlers.link_public.handler"
LIVE_ALIAS = "live"

# (method, path, needs IAM): the admin API (docs/ARCHITECTURE.md) plus the two public routes.
ADMIN_ROUTES: tuple[tuple[apigw.HttpMethod, str], ...] = (
    (apigw.HttpMethod.POST, "/links"),
    (apigw.HttpMethod.GET, "/apps"),
    (apigw.HttpMethod.GET, "/apps/{bundle_id}/builds"),
    (apigw.HttpMethod.DELETE, "/apps/{bundle_id}/builds/{build_id}"),
    (apigw.HttpMethod.GET, "/devices"),
    (apigw.HttpMethod.POST, "/enrollments"),
    *((apigw.HttpMethod(method), path) for method, path in DISTRIBUTION_ADMIN_ROUTES),
)
PUBLIC_ROUTES: tuple[tuple[apigw.HttpMethod, str], ...] = (
    (apigw.HttpMethod.GET, "/i/{token}"),
    (apigw.HttpMethod.HEAD, "/i/{token}"),
    (apigw.HttpMethod.GET, "/m/{token}/manifest.plist"),
    # Device enrollment (docs/ARCHITECTURE.md, "Devices and pre-install diagnosis").
    (apigw.HttpMethod.GET, "/d/{token}"),
    (apigw.HttpMethod.GET, "/d/{token}/enroll.mobileconfig"),
    (apigw.HttpMethod.POST, "/d/{token}/enroll"),
    (apigw.HttpMethod.GET, "/d/{token}/done"),
)

_ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.userArn",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
    }
)


class LinkApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: LambdaFactory,
        environment: Mapping[str, str],
        rate_limit: int = 50,
        burst_limit: int = 100,
        access_log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        memory_size: int = 512,
        public_reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        # Two functions from one code asset: the admin API, and the routes a
        # tester waits on. The public one has SnapStart (a published version
        # behind an alias: a restored snapshot instead of a cold init) and
        # reserved concurrency, which both guarantees and caps its share, so a
        # flood of page views can neither starve the admin API nor the account.
        self.function = factory.function(
            self,
            "Function",
            handler=LINK_HANDLER,
            service="link",
            description="ipadrop: admin API (IAM) — links, apps, builds, revoke",
            memory_size=memory_size,
            timeout=cdk.Duration.seconds(15),
            environment=environment,
        )
        self.public_function = factory.function(
            self,
            "PublicFunction",
            handler=PUBLIC_HANDLER,
            service="link-public",
            description="ipadrop: install pages and per-request manifests (SnapStart)",
            memory_size=memory_size,
            timeout=cdk.Duration.seconds(15),
            environment=environment,
            reserved_concurrent_executions=public_reserved_concurrency or None,
            snap_start=True,
        )
        self.public_alias = lambda_.Alias(
            self,
            "PublicLive",
            alias_name=LIVE_ALIAS,
            version=self.public_function.current_version,
            description="ipadrop: the published (snapshotted) version API Gateway invokes",
        )
        acknowledge(
            self.public_function,
            "Annotation::@aws-cdk/aws-lambda:snapStartRequirePublish",
            "The version is published (current_version) and API Gateway invokes it through "
            "the `live` alias.",
        )
        integration = integrations.HttpLambdaIntegration("LinkIntegration", self.function)
        public_integration = integrations.HttpLambdaIntegration(
            "PublicIntegration", self.public_alias
        )
        iam = authorizers.HttpIamAuthorizer()

        self.api = apigw.HttpApi(
            self,
            "HttpApi",
            description="ipadrop link API",
            create_default_stage=False,
        )
        self.admin_routes: list[apigw.HttpRoute] = []
        for method, path in ADMIN_ROUTES:
            self.admin_routes += self.api.add_routes(
                path=path, methods=[method], integration=integration, authorizer=iam
            )
        self.public_routes: list[apigw.HttpRoute] = []
        for method, path in PUBLIC_ROUTES:
            self.public_routes += self.api.add_routes(
                path=path, methods=[method], integration=public_integration
            )
        for route in self.public_routes:
            acknowledge(
                route,
                "AwsSolutions-APIG4",
                "Install page and manifest are opened by testers and iOS without AWS "
                "credentials; the HMAC token in the path is the authorization.",
            )

        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=access_log_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
            access_log_settings=_AccessLogSettings(
                destination=apigw.LogGroupLogDestination(self.access_logs),
                format=apigw_v1.AccessLogFormat.custom(_ACCESS_LOG_FORMAT),
            ),
        )

    @property
    def url(self) -> str:
        """``https://<id>.execute-api.<region>.amazonaws.com/`` (the admin API)."""
        return self.stage.url

    @property
    def domain_name(self) -> str:
        """The execute-api host name (CloudFront's origin for ``i/*`` and ``m/*``)."""
        stack = cdk.Stack.of(self)
        return f"{self.api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogSettings:
    """Where and how the stage writes access logs (a jsii interface, not a struct)."""

    def __init__(
        self, *, destination: apigw.IAccessLogDestination, format: apigw_v1.AccessLogFormat
    ) -> None:
        self._destination = destination
        self._format = format

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return self._format
