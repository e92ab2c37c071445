"""An in-memory implementation of the ports (``ipadrop.domain.ports.PublishStore``),
for core tests: it records the order of writes."""

from __future__ import annotations

import copy
from typing import Any, cast

from ipadrop.domain import bucket_keys, indexes
from ipadrop.domain.model import BuildRecord, DeviceRecord
from ipadrop.domain.ports import AppIndex, AppsIndex, IndexDoc, IndexMutation, ObjectInfo


class MemoryStore:
    """Just enough of ``PublishStore`` to watch what the core writes, in order."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.writes: list[str] = []
        self.metadata: dict[str, dict[str, str]] = {}

    def upload(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        self.objects[key] = body
        self.metadata[key] = dict(metadata or {})

    # read side
    def get_build(self, bundle_id: str, build_id: str) -> BuildRecord | None:
        doc = self.documents.get(bucket_keys.build_file_key(bundle_id, build_id, "build.json"))
        return BuildRecord.from_json(doc) if doc else None

    def get_app_index(self, bundle_id: str) -> AppIndex | None:
        document = copy.deepcopy(self.documents.get(bucket_keys.app_index_key(bundle_id)))
        return cast("AppIndex | None", document)

    def get_apps_index(self) -> AppsIndex:
        document = self.documents.get(bucket_keys.APPS_INDEX_KEY)
        return cast(AppsIndex, document) if document else indexes.empty_apps_index()

    def read_object(self, key: str) -> bytes | None:
        return self.objects.get(key)

    # write side
    def head_object(self, key: str) -> ObjectInfo | None:
        body = self.objects.get(key)
        if not body:
            return None
        return ObjectInfo(
            size=len(body), etag="etag-" + str(len(body)), metadata=self.metadata.get(key, {})
        )

    def copy_upload(
        self, upload_key: str, *, bundle_id: str, build_id: str, size: int, etag: str
    ) -> None:
        key = bucket_keys.build_file_key(bundle_id, build_id, bucket_keys.IPA_NAME)
        self.objects[key] = self.objects[upload_key]
        self.writes.append("app.ipa")

    def put_build_file(self, bundle_id: str, build_id: str, name: str, body: bytes) -> None:
        self.objects[bucket_keys.build_file_key(bundle_id, build_id, name)] = body
        self.writes.append(name)

    def create_build_record(self, record: BuildRecord) -> BuildRecord:
        key = bucket_keys.build_file_key(record.bundle_id, record.build_id, "build.json")
        self.documents.setdefault(key, record.to_json())
        self.writes.append("build.json")
        return BuildRecord.from_json(self.documents[key])

    def put_build_record(self, record: BuildRecord) -> None:
        key = bucket_keys.build_file_key(record.bundle_id, record.build_id, "build.json")
        self.documents[key] = record.to_json()
        self.writes.append("build.json")

    def delete_build_files(self, bundle_id: str, build_id: str, names: tuple[str, ...]) -> None:
        for name in names:
            self.objects.pop(bucket_keys.build_file_key(bundle_id, build_id, name), None)
        self.writes.append("delete files")

    def _update(self, key: str, mutate: IndexMutation[IndexDoc], label: str) -> IndexDoc | None:
        current = cast("IndexDoc | None", copy.deepcopy(self.documents.get(key)))
        updated = mutate(current)
        if updated is not None and updated != current:
            self.documents[key] = dict(updated)
            self.writes.append(label)
        return updated

    def update_app_index(self, bundle_id: str, mutate: IndexMutation[AppIndex]) -> AppIndex | None:
        return self._update(bucket_keys.app_index_key(bundle_id), mutate, "app index")

    def update_apps_index(self, mutate: IndexMutation[AppsIndex]) -> AppsIndex | None:
        return self._update(bucket_keys.APPS_INDEX_KEY, mutate, "apps index")

    def get_result(self, upload_key: str) -> dict[str, Any] | None:
        return self.documents.get(bucket_keys.result_key(upload_key))

    def put_result(self, upload_key: str, result: dict[str, Any]) -> None:
        self.documents[bucket_keys.result_key(upload_key)] = result
        self.writes.append("result")

    def delete_upload(self, upload_key: str, *, etag: str | None) -> None:
        self.objects.pop(upload_key, None)
        self.writes.append("delete upload")

    def delete_build(self, bundle_id: str, build_id: str) -> None:
        prefix = bucket_keys.build_prefix(bundle_id, build_id)
        for key in [k for k in (*self.objects, *self.documents) if k.startswith(prefix)]:
            self.objects.pop(key, None)
            self.documents.pop(key, None)
        self.writes.append(f"delete {build_id}")


class MemoryDeviceStore:
    """``DeviceStore`` in memory (the DynamoDB adapter is tested against moto)."""

    def __init__(self) -> None:
        self.devices: dict[str, DeviceRecord] = {}
        self.answers: set[str] = set()

    def put_device(self, device: DeviceRecord) -> None:
        self.devices[device.udid] = device

    def get_device(self, udid: str) -> DeviceRecord | None:
        return self.devices.get(udid.upper())

    def list_devices(self) -> list[DeviceRecord]:
        return sorted(self.devices.values(), key=lambda d: d.enrolled_at, reverse=True)

    def claim_answer(self, digest: str, *, expires_at: int) -> bool:
        if digest in self.answers:
            return False
        self.answers.add(digest)
        return True
