"""DynamoDB adapter for enrolled devices (``DeviceStore``), in the people table.

Items (docs/ARCHITECTURE.md, "Devices and pre-install diagnosis")::

    devices   pk="DEVICE"          sk=<UDID>      {udid, product, ios_version, name, serial,
                                                   email, invite_id, enrolled_at, verified}
    answers   pk="DEVICE_ANSWER"   sk=<sha256>    {ttl}   (a used device answer: replays refused)

Takes an injectable low-level ``dynamodb`` client.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ipadrop.domain.model import DeviceRecord

DEVICE_PK = "DEVICE"
ANSWER_PK = "DEVICE_ANSWER"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def _device(item: dict[str, Any]) -> DeviceRecord:
    data = {k: _deserializer.deserialize(v) for k, v in item.items() if k not in ("pk", "sk")}
    return DeviceRecord.from_json(data)


class DynamoDeviceStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def put_device(self, device: DeviceRecord) -> None:
        item = {"pk": DEVICE_PK, "sk": device.udid, **device.to_json()}
        self.client.put_item(TableName=self.table, Item=_item(item))

    def get_device(self, udid: str) -> DeviceRecord | None:
        response = self.client.get_item(
            TableName=self.table,
            Key=_item({"pk": DEVICE_PK, "sk": udid.upper()}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _device(item) if item else None

    def list_devices(self) -> list[DeviceRecord]:
        devices: list[DeviceRecord] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": DEVICE_PK}},
        }
        while True:
            response = self.client.query(**request)
            devices.extend(_device(item) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last
        return sorted(devices, key=lambda d: d.enrolled_at, reverse=True)

    def claim_answer(self, digest: str, *, expires_at: int) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_item({"pk": ANSWER_PK, "sk": digest, "ttl": expires_at}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
