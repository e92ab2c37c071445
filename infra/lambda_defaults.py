"""The one place where ipadrop's Lambda functions get their defaults.

Every function: arm64, Python 3.13, the shared locally-bundled asset, JSON logs
into its own log group with a retention period, X-Ray active tracing, and
Powertools from the AWS-published layer of the locked release, resolved at
deploy time (boto3 comes from the runtime, docs/DEPLOY.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.bundling import lambda_code
from infra.nag import acknowledge_all

# Powertools comes from the layer AWS publishes, found at deploy time through
# the public SSM parameter the Powertools team keeps per release:
#   /aws/service/powertools/python/arm64/python3.13/<release>  ->  layer ARN
# The release is uv.lock's (the one the tests run; tests/infra/test_powertools_pin.py).
# CloudFormation resolves the parameter before it changes anything: a region
# without that release fails the deploy at once, with the parameter's name,
# instead of deploying a function that cannot import Powertools or carries
# another release than the one tested (docs/DEPLOY.md, Powertools).
POWERTOOLS_PACKAGE_VERSION = "3.23.0"


def powertools_layer_parameter(version: str = POWERTOOLS_PACKAGE_VERSION) -> str:
    """The public SSM parameter whose value is the arm64/3.13 layer ARN of ``version``."""
    return f"/aws/service/powertools/python/arm64/python3.13/{version}"


RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
SERVICE_PREFIX = "ipadrop"


class LambdaFactory(Construct):
    """Makes functions with the project's defaults; one instance per stack.

    Holds the shared code asset (bundled once) and the Powertools layer.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        code: lambda_.Code | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_retention = log_retention
        self.code = code if code is not None else lambda_code()
        layer_arn = ssm.StringParameter.value_for_string_parameter(
            self, powertools_layer_parameter()
        )
        self.powertools_layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", layer_arn
        )
        self.functions: list[lambda_.Function] = []

    def function(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        service: str,
        description: str,
        memory_size: int = 256,
        timeout: cdk.Duration | None = None,
        environment: Mapping[str, str] | None = None,
        reserved_concurrent_executions: int | None = None,
        retry_attempts: int | None = None,
        max_event_age: cdk.Duration | None = None,
        on_failure: lambda_.IDestination | None = None,
        snap_start: bool = False,
    ) -> lambda_.Function:
        """A function named ``construct_id`` under ``scope`` running ``handler``.

        The asynchronous-invocation knobs (``retry_attempts``, ``max_event_age``,
        ``on_failure``) matter for event-driven functions only. ``snap_start``:
        snapshots of published versions (invoke them through an alias of
        ``current_version``; old versions are deleted once replaced).
        """
        log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            retention=self.log_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        function = lambda_.Function(
            scope,
            construct_id,
            code=self.code,
            handler=handler,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            description=description,
            memory_size=memory_size,
            timeout=timeout or cdk.Duration.seconds(30),
            layers=[self.powertools_layer],
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            log_group=log_group,
            reserved_concurrent_executions=reserved_concurrent_executions,
            environment={
                "POWERTOOLS_SERVICE_NAME": f"{SERVICE_PREFIX}-{service}",
                # Responses can hold signed URLs: keep them out of traces.
                "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
                **(environment or {}),
            },
            # Lambda stops a function that keeps re-triggering itself.
            recursive_loop=lambda_.RecursiveLoop.TERMINATE,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            on_failure=on_failure,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            current_version_options=(
                lambda_.VersionOptions(removal_policy=cdk.RemovalPolicy.DESTROY)
                if snap_start
                else None
            ),
        )
        acknowledge_all(
            function,
            {
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AWSLambdaBasicExecutionRole]": (
                    "The AWS-managed basic execution policy only lets the function write "
                    "its own logs."
                ),
                "AwsSolutions-L1": (
                    "Pinned to Python 3.13 on purpose: the Powertools layer and the bundled "
                    "arm64 wheels are built for 3.13; moving is a deliberate upgrade."
                ),
                "AwsSolutions-IAM5[Resource::*]": (
                    "X-Ray active tracing: PutTraceSegments and PutTelemetryRecords have no "
                    "resource-level scoping."
                ),
            },
        )
        self.functions.append(function)
        return function
