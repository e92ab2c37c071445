"""Distribution's infrastructure: the people table, the access-log function, the
SES sender identity and configuration set, and the events (docs/ARCHITECTURE.md,
"Distribution"; docs/DEPLOY.md for sender setup and costs).

One construct, hooked into the stack with a single call: it adds environment
variables to the link and processor functions and grants each only what it uses.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.lambda_defaults import LambdaFactory
from infra.nag import acknowledge_all
from ipadrop.settings import (
    ACCESS_LOG_PREFIX_ENV,
    DEFAULT_SES_MAX_SEND_RATE,
    EVENT_BUS_ENV,
    EVENT_SOURCE,
    SENDER_EMAIL_ENV,
    SES_CONFIGURATION_SET_ENV,
    SES_MAX_SEND_RATE_ENV,
    TABLE_ENV,
    TABLE_PARTITION_KEY,
    TABLE_SORT_KEY,
    TABLE_TTL_ATTRIBUTE,
)

ACCESS_LOG_HANDLER = "ipadrop.handlers.access_logs.handler"
CLOUDFRONT_LOG_PREFIX = "cloudfront/"


class PeopleTable(Construct):
    """Groups, invites, activity: on demand, point-in-time recovery, encrypted, TTL."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(
                name=TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=TABLE_SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=TABLE_TTL_ATTRIBUTE,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )


class Mail(Construct):
    """The sender identity (an address, or a domain with DKIM in its hosted zone)
    and a configuration set that suppresses bounces and complaints."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        sender_email: str | None,
        domain_name: str | None,
        zone: route53.IHostedZone | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            reputation_metrics=True,
            sending_enabled=True,
        )
        self.identity: ses.EmailIdentity | None = None
        self.sender_email: str | None = sender_email
        if zone is not None and domain_name is not None:
            # DKIM records written into the zone: verified without a manual step.
            self.identity = ses.EmailIdentity(
                self,
                "DomainIdentity",
                identity=ses.Identity.public_hosted_zone(zone),
                configuration_set=self.configuration_set,
            )
            if self.sender_email is None:
                self.sender_email = f"no-reply@{zone.zone_name}"
        elif sender_email is not None:
            # SES mails a verification link to this address once (docs/DEPLOY.md).
            self.identity = ses.EmailIdentity(
                self,
                "EmailIdentity",
                identity=ses.Identity.email(sender_email),
                configuration_set=self.configuration_set,
            )

    def grant_send(self, grantee: iam.IGrantable) -> None:
        if self.identity is None:
            return
        stack = cdk.Stack.of(self)
        config_set_arn = stack.format_arn(
            service="ses",
            resource="configuration-set",
            resource_name=self.configuration_set.configuration_set_name,
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[self.identity.email_identity_arn, config_set_arn],
            )
        )


class Distribution(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: LambdaFactory,
        bucket: s3.IBucket,
        log_bucket: s3.IBucket,
        link: lambda_.Function,
        processor: lambda_.Function,
        token_secret: secretsmanager.ISecret | None,
        sender_email: str | None,
        notify_email: str | None,
        max_send_rate: int = DEFAULT_SES_MAX_SEND_RATE,
        domain_name: str | None = None,
        zone: route53.IHostedZone | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.people = PeopleTable(self, "People")
        table = self.people.table
        self.mail = Mail(
            self, "Mail", sender_email=sender_email, domain_name=domain_name, zone=zone
        )

        shared = {
            TABLE_ENV: table.table_name,
            EVENT_BUS_ENV: "default",
            SES_CONFIGURATION_SET_ENV: self.mail.configuration_set.configuration_set_name,
            SES_MAX_SEND_RATE_ENV: str(max_send_rate),
        }
        if self.mail.sender_email is not None:
            shared[SENDER_EMAIL_ENV] = self.mail.sender_email
        for function in (link, processor):
            for name, value in shared.items():
                function.add_environment(name, value)

        # Least privilege: each function gets the table calls and the sends it makes.
        table.grant_read_write_data(link)
        table.grant_read_write_data(processor)
        self.mail.grant_send(link)
        self.mail.grant_send(processor)
        if token_secret is not None:
            token_secret.grant_read(processor)  # mints invite links for notify
            processor.add_environment("IPADROP_TOKEN_SECRET_ID", token_secret.secret_arn)
        bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        bus.grant_put_events_to(link)
        bus.grant_put_events_to(processor)

        # download_finished from CloudFront's standard logs (docs/ARCHITECTURE.md).
        self.access_logs = factory.function(
            self,
            "AccessLogs",
            handler=ACCESS_LOG_HANDLER,
            service="ipadrop-access-logs",
            description="ipadrop: CloudFront access logs -> download_finished activity",
            memory_size=256,
            timeout=cdk.Duration.seconds(60),
            environment={
                "IPADROP_BUCKET": bucket.bucket_name,
                TABLE_ENV: table.table_name,
                ACCESS_LOG_PREFIX_ENV: CLOUDFRONT_LOG_PREFIX,
            },
            retry_attempts=2,
        )
        log_bucket.grant_read(self.access_logs, f"{CLOUDFRONT_LOG_PREFIX}*")
        bucket.grant_read(self.access_logs, "builds/*.json")
        self._prefixes = [
            (log_bucket, f"{CLOUDFRONT_LOG_PREFIX}*", "CloudFront writes its log files here."),
            (
                bucket,
                "builds/*.json",
                "Build records (object sizes) only, read to judge a download.",
            ),
        ]
        table.grant_read_write_data(self.access_logs)
        log_bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(self.access_logs),
            s3.NotificationKeyFilter(prefix=CLOUDFRONT_LOG_PREFIX),
        )

        # Optional: every ipadrop event mailed through SNS (docs/DEPLOY.md for Slack, CI).
        self.events_topic: sns.Topic | None = None
        if notify_email is not None:
            self.events_topic = sns.Topic(
                self, "EventsTopic", display_name="ipadrop events", enforce_ssl=True
            )
            self.events_topic.add_subscription(subscriptions.EmailSubscription(notify_email))
            events.Rule(
                self,
                "EventsRule",
                description="ipadrop events -> the notify_email topic",
                event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
                targets=[targets.SnsTopic(self.events_topic)],
            )
            acknowledge_all(
                self.events_topic,
                {
                    "AwsSolutions-SNS2": (
                        "Event summaries (ids, titles, versions) only; no secrets or tokens. "
                        "A KMS key would add a monthly cost for no confidentiality gain."
                    ),
                },
            )

        self._acknowledge()

    def _acknowledge(self) -> None:
        stack = cdk.Stack.of(self)
        for bucket, pattern, reason in self._prefixes:
            bucket_ref = stack.resolve(bucket.bucket_arn)["Fn::GetAtt"][0]
            acknowledge_all(
                self, {f"AwsSolutions-IAM5[Resource::<{bucket_ref}.Arn>/{pattern}]": reason}
            )
        acknowledge_all(
            self,
            {
                "AwsSolutions-IAM5[Action::s3:GetObject*]": (
                    "CDK's grant_read on the log prefix / build JSON only."
                ),
                "AwsSolutions-IAM5[Action::s3:GetBucket*]": (
                    "CDK's grant_read: bucket-level metadata reads on these buckets only."
                ),
                "AwsSolutions-IAM5[Action::s3:List*]": (
                    "CDK's grant_read: listing these buckets (a missing key answers 404)."
                ),
            },
        )
