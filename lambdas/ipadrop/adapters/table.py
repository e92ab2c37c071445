"""DynamoDB adapter for the people table: groups, invites, activity (``PeopleStore``).

One table, keys ``pk``/``sk`` (strings), TTL attribute ``ttl`` (docs/ARCHITECTURE.md,
"Distribution")::

    groups    pk="GROUP"     sk=<name>        {emails, updated_at}
    invites   pk="INVITE"    sk=<invite_id>   {email, bundle_id, build, channel, message,
                                               created_at, expires_at, revoked_at, sent_at, ttl}
    activity  pk="ACTIVITY#<bundle_id>#<build_id>"  sk="<iso time>#<event id>"
                                              {type, invite_id, email, at, detail, ttl}

Takes an injectable low-level ``dynamodb`` client.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ipadrop.domain.ports import JsonDoc

GROUP_PK = "GROUP"
INVITE_PK = "INVITE"
ACTIVITY_PREFIX = "ACTIVITY#"
_INTERNAL = ("pk", "sk")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_item(data: JsonDoc) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def _from_item(item: dict[str, Any]) -> JsonDoc:
    data = {k: _deserializer.deserialize(v) for k, v in item.items() if k not in _INTERNAL}
    return {k: _plain(v) for k, v in data.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the API speaks JSON."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


def activity_pk(bundle_id: str, build_id: str) -> str:
    return f"{ACTIVITY_PREFIX}{bundle_id}#{build_id}"


class DynamoPeopleStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    # -- groups ----------------------------------------------------------------

    def put_group(self, name: str, emails: list[str], *, updated_at: str) -> JsonDoc:
        item = {
            "pk": GROUP_PK,
            "sk": name,
            "name": name,
            "emails": emails,
            "updated_at": updated_at,
        }
        self.client.put_item(TableName=self.table, Item=_to_item(item))
        return {"name": name, "emails": emails, "updated_at": updated_at}

    def get_group(self, name: str) -> JsonDoc | None:
        response = self.client.get_item(
            TableName=self.table,
            Key=_to_item({"pk": GROUP_PK, "sk": name}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _from_item(item) if item else None

    def list_groups(self) -> list[JsonDoc]:
        return [_from_item(item) for item in self._query(GROUP_PK)]

    def delete_group(self, name: str) -> bool:
        response = self.client.delete_item(
            TableName=self.table,
            Key=_to_item({"pk": GROUP_PK, "sk": name}),
            ReturnValues="ALL_OLD",
        )
        return bool(response.get("Attributes"))

    # -- invites ---------------------------------------------------------------

    def create_invite(self, invite: JsonDoc) -> JsonDoc:
        item = {"pk": INVITE_PK, "sk": invite["invite_id"], **invite}
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_to_item(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            existing = self.get_invite(str(invite["invite_id"]))
            if existing is None:  # deleted in between: try once more
                return self.create_invite(invite)
            return existing
        return dict(invite)

    def get_invite(self, invite_id: str) -> JsonDoc | None:
        response = self.client.get_item(
            TableName=self.table,
            Key=_to_item({"pk": INVITE_PK, "sk": invite_id}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _from_item(item) if item else None

    def update_invite(self, invite_id: str, changes: JsonDoc) -> JsonDoc | None:
        if not changes:
            return self.get_invite(invite_id)
        names = {f"#a{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": _serializer.serialize(v) for i, v in enumerate(changes.values())}
        assignments = ", ".join(f"#a{i} = :v{i}" for i in range(len(changes)))
        try:
            response = self.client.update_item(
                TableName=self.table,
                Key=_to_item({"pk": INVITE_PK, "sk": invite_id}),
                UpdateExpression=f"SET {assignments}",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return _from_item(response["Attributes"])

    # -- activity --------------------------------------------------------------

    def put_activity(self, bundle_id: str, build_id: str, event: JsonDoc) -> None:
        item = {
            "pk": activity_pk(bundle_id, build_id),
            "sk": f"{event['at']}#{event['event_id']}",
            **event,
        }
        self.client.put_item(TableName=self.table, Item=_to_item(item))

    def list_activity(self, bundle_id: str, build_id: str, *, limit: int = 500) -> list[JsonDoc]:
        items = self._query(activity_pk(bundle_id, build_id), newest_first=True, limit=limit)
        return [_from_item(item) for item in items]

    # -- helpers ---------------------------------------------------------------

    def _query(
        self, pk: str, *, newest_first: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ScanIndexForward": not newest_first,
        }
        while True:
            response = self.client.query(**kwargs)
            items.extend(response.get("Items", []))
            if limit is not None and len(items) >= limit:
                return items[:limit]
            last = response.get("LastEvaluatedKey")
            if not last:
                return items
            kwargs["ExclusiveStartKey"] = last
