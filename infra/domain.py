"""Optional custom domain: a certificate CloudFront can use (us-east-1) and
A/AAAA alias records pointing at the distribution.

Why a small certificate stack: CloudFront only takes ACM certificates from
us-east-1. ``acm.DnsValidatedCertificate`` did that with a custom resource but
is deprecated; the supported way is a us-east-1 stack holding an
``acm.Certificate`` (CloudFormation validates it through Route 53 natively)
and a cross-region reference (``cross_region_references=True`` on both stacks).
When the main stack is itself in us-east-1 the certificate lives in it.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"


def hosted_zone(
    scope: Construct, construct_id: str, *, zone_name: str, zone_id: str | None
) -> route53.IHostedZone:
    """The zone by id when given (no lookup), else looked up by name (cached in cdk.context.json)"""
    if zone_id is not None:
        return route53.HostedZone.from_hosted_zone_attributes(
            scope, construct_id, hosted_zone_id=zone_id, zone_name=zone_name
        )
    return route53.HostedZone.from_lookup(scope, construct_id, domain_name=zone_name)


def dns_validated_certificate(
    scope: Construct, *, domain_name: str, zone: route53.IHostedZone
) -> acm.Certificate:
    return acm.Certificate(
        scope,
        "Certificate",
        domain_name=domain_name,
        validation=acm.CertificateValidation.from_dns(zone),
    )


class CertificateStack(cdk.Stack):
    """us-east-1 stack with just the distribution's DNS-validated certificate."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        hosted_zone_name: str,
        hosted_zone_id: str | None,
        account: str | None,
        stack_name: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=stack_name,
            env=cdk.Environment(account=account, region=CLOUDFRONT_CERTIFICATE_REGION),
            cross_region_references=True,
            description=f"ipadrop: CloudFront certificate for {domain_name}",
        )
        zone = hosted_zone(self, "Zone", zone_name=hosted_zone_name, zone_id=hosted_zone_id)
        self.certificate = dns_validated_certificate(self, domain_name=domain_name, zone=zone)


class CustomDomain(Construct):
    """The custom name of the distribution: its certificate and, with a zone, its DNS records."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        hosted_zone_name: str | None,
        hosted_zone_id: str | None = None,
        certificate_arn: str | None = None,
        certificate: acm.ICertificate | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.domain_name = domain_name
        self.zone: route53.IHostedZone | None = None
        if hosted_zone_name is not None:
            self.zone = hosted_zone(
                self, "Zone", zone_name=hosted_zone_name, zone_id=hosted_zone_id
            )

        self.certificate: acm.ICertificate
        if certificate_arn is not None:
            self.certificate = acm.Certificate.from_certificate_arn(
                self, "Certificate", certificate_arn
            )
        elif certificate is not None:
            self.certificate = certificate
        elif self.zone is not None and cdk.Stack.of(self).region == CLOUDFRONT_CERTIFICATE_REGION:
            self.certificate = dns_validated_certificate(
                self, domain_name=domain_name, zone=self.zone
            )
        else:
            raise ValueError(
                "a custom domain outside us-east-1 needs certificate_arn or a CertificateStack"
            )
        self.records: list[route53.RecordSet] = []

    @property
    def url(self) -> str:
        return f"https://{self.domain_name}"

    def point_at(self, distribution: cloudfront.IDistribution) -> None:
        """A and AAAA alias records for the domain (only when the zone is managed here)."""
        if self.zone is None:
            return
        target = route53.RecordTarget.from_alias(targets.CloudFrontTarget(distribution))
        self.records = [
            route53.ARecord(
                self, "AliasA", zone=self.zone, record_name=self.domain_name, target=target
            ),
            route53.AaaaRecord(
                self, "AliasAAAA", zone=self.zone, record_name=self.domain_name, target=target
            ),
        ]
