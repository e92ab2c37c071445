"""The processor: S3 ``uploads/*`` (``.ipa`` in any case) -> Lambda -> published build, with a
dead-letter queue for events that keep failing and alarms on both."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.lambda_defaults import LambdaFactory
from infra.nag import acknowledge
from ipadrop.domain.bucket_keys import UPLOADS_PREFIX

PROCESSOR_HANDLER = "ipadrop.handlers.processor.handler"


class Processor(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: LambdaFactory,
        bucket: s3.Bucket,
        environment: Mapping[str, str],
        alarm_email: str | None = None,
        retry_attempts: int = 2,
        memory_size: int = 512,
        timeout_minutes: int = 5,
    ) -> None:
        super().__init__(scope, construct_id)

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is the processor's dead-letter (on-failure) destination.",
        )

        self.function = factory.function(
            self,
            "Function",
            handler=PROCESSOR_HANDLER,
            service="processor",
            description="ipadrop: reads an uploaded .ipa and publishes the build",
            memory_size=memory_size,
            timeout=cdk.Duration.minutes(timeout_minutes),
            environment=environment,
            retry_attempts=retry_attempts,
            max_event_age=cdk.Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
        )
        # Prefix only: S3 suffix filters are case-sensitive, and `App.IPA` must
        # fire too. The processor itself ignores keys that do not end in .ipa
        # (any case), so a stray file costs one short invocation, not a build.
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(self.function),
            s3.NotificationKeyFilter(prefix=UPLOADS_PREFIX),
        )

        self.errors_alarm = cloudwatch.Alarm(
            self,
            "ErrorsAlarm",
            alarm_description="ipadrop processor: invocations failed (see its log group)",
            metric=self.function.metric_errors(period=cdk.Duration.minutes(5), statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLetterAlarm",
            alarm_description=(
                "ipadrop processor: an upload failed every retry (dead-letter queue)"
            ),
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

        self.alarm_topic: sns.Topic | None = None
        if alarm_email is not None:
            self.alarm_topic = sns.Topic(
                self, "AlarmTopic", display_name="ipadrop alarms", enforce_ssl=True
            )
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
            acknowledge(
                self.alarm_topic,
                "AwsSolutions-SNS2",
                "Alarm notices carry no secrets, and CloudWatch cannot publish to a topic "
                "encrypted with the AWS-managed SNS key.",
            )
            alarms = (self.errors_alarm, self.dead_letter_alarm)
            # enforce_ssl gives the topic a policy of its own, which replaces SNS's
            # default one: CloudWatch may publish only when allowed here, and only
            # for this stack's alarms (confused-deputy guard: SourceArn + account).
            self.alarm_topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CloudWatchAlarmsOfThisStack",
                    actions=["sns:Publish"],
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    resources=[self.alarm_topic.topic_arn],
                    conditions={
                        "ArnEquals": {"aws:SourceArn": [alarm.alarm_arn for alarm in alarms]},
                        "StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account},
                    },
                )
            )
            for alarm in alarms:
                alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))
