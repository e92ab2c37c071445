"""Names of account-wide resources (CloudFront policies, origin access control,
key group, public keys): CloudFront keeps them in one namespace per account,
across every region, so each carries the stack name AND the region.

``<stack>-<region>-<purpose>``; a long stack name is shortened to a prefix
plus a hash of the whole name, so two stacks never share a name and the result
stays within CloudFront's shortest limit (64 characters, origin access control).
"""

from __future__ import annotations

import hashlib

import aws_cdk as cdk
from constructs import Construct

# CloudFront's shortest name limit among the resources named here (OAC: 64).
MAX_NAME_LENGTH = 64
# Longest region name today is 14 characters (ap-southeast-5); a token region
# resolves at deploy time, so room for 20 is kept.
_REGION_ROOM = 20
_PURPOSE_ROOM = 12
_STACK_ROOM = MAX_NAME_LENGTH - _REGION_ROOM - _PURPOSE_ROOM - 2


def stack_part(stack_name: str) -> str:
    """The stack name, or a prefix of it plus 8 hex digits of its hash when too long."""
    if len(stack_name) <= _STACK_ROOM:
        return stack_name
    digest = hashlib.sha256(stack_name.encode("utf-8")).hexdigest()[:8]
    return f"{stack_name[: _STACK_ROOM - 9]}-{digest}"


def account_wide_name(scope: Construct, purpose: str) -> str:
    """``<stack>-<region>-<purpose>`` for the stack ``scope`` belongs to.

    The region is the stack's (a token in an environment-agnostic synth: then
    CloudFormation fills it in, which is just as unique).
    """
    if len(purpose) > _PURPOSE_ROOM:
        raise ValueError(f"purpose {purpose!r} is longer than {_PURPOSE_ROOM} characters")
    stack = cdk.Stack.of(scope)
    return f"{stack_part(stack.stack_name)}-{stack.region}-{purpose}"
