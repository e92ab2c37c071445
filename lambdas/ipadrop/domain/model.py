"""Plain data shared by every layer. No I/O here.

These shapes are contracts: ``AppFacts.to_json()`` is what ``ipadrop inspect
--json`` prints and what ``build.json`` embeds (docs/ARCHITECTURE.md, "Contracts").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# The channel of a build uploaded without one (docs/ARCHITECTURE.md, "Distribution").
DEFAULT_CHANNEL = "default"

Distribution = Literal["enterprise", "ad-hoc", "development", "app-store"]
DeviceFamily = Literal["iphone", "ipad"]


@dataclass(frozen=True, slots=True)
class IconInfo:
    source: str  # path of the PNG inside the archive
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ProfileInfo:
    name: str | None
    uuid: str | None
    team_id: str | None
    team_name: str | None
    expires_at: str | None  # ISO 8601 UTC, e.g. "2027-01-31T12:00:00Z"
    distribution: Distribution
    device_count: int
    certificates_expire_at: list[str] = field(default_factory=list)
    # UDIDs of ProvisionedDevices (ad-hoc and development profiles). Not part of
    # the ``inspect --json`` profile object: ``build.json`` carries them as the
    # top-level ``profile_devices`` (docs/ARCHITECTURE.md, "Contracts").
    devices: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AppFacts:
    bundle_id: str
    version: str | None  # CFBundleShortVersionString
    build: str | None  # CFBundleVersion
    title: str  # display name, else bundle name, else bundle id
    minimum_os_version: str | None
    device_family: list[DeviceFamily]
    size_bytes: int
    icon: IconInfo | None
    profile: ProfileInfo | None
    # UIRequiredDeviceCapabilities (array form, or the keys set to true in the dictionary form)
    required_capabilities: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``inspect --json`` object (keys as the contract names them, see
        docs/ARCHITECTURE.md).

        ``profile`` holds exactly the contract's seven keys; the signing
        certificates' expiries (useful, but not part of the contract) travel as
        the extra top-level ``certificates_expire_at`` list, the profile's device
        UDIDs as ``profile_devices``.
        """
        data = asdict(self)
        certificates: list[str] = []
        devices: list[str] = []
        if data["profile"] is not None:
            certificates = list(data["profile"].pop("certificates_expire_at"))
            devices = list(data["profile"].pop("devices"))
        data["certificates_expire_at"] = certificates
        data["profile_devices"] = devices
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppFacts:
        icon = data.get("icon")
        profile = data.get("profile")
        return cls(
            bundle_id=str(data["bundle_id"]),
            version=data.get("version"),
            build=data.get("build"),
            title=str(data.get("title") or data["bundle_id"]),
            minimum_os_version=data.get("minimum_os_version"),
            device_family=list(data.get("device_family") or []),
            size_bytes=int(data.get("size_bytes") or 0),
            icon=IconInfo(**icon) if icon else None,
            profile=_profile_from_json(
                profile, data.get("certificates_expire_at"), data.get("profile_devices")
            ),
            required_capabilities=[
                str(c) for c in data.get("required_capabilities") or [] if isinstance(c, str)
            ],
        )


def _profile_from_json(
    profile: dict[str, Any] | None, certificates: list[str] | None, devices: list[Any] | None
) -> ProfileInfo | None:
    if not profile:
        return None
    fields = dict(profile)
    fields["devices"] = [str(d) for d in devices or fields.get("devices") or []]
    # Older build.json files kept the certificates inside the profile.
    fields["certificates_expire_at"] = list(
        certificates if certificates is not None else fields.get("certificates_expire_at", [])
    )
    return ProfileInfo(**fields)


@dataclass(frozen=True, slots=True)
class Inspection:
    """What the reader returns: the facts plus the icon as standard PNGs.

    ``icon_png`` is the page's icon (``bucket_keys.ICON_NAME``); ``icon_files``
    holds every icon file by its bucket name (the manifest's sizes included
    when the icon's pixels could be decoded)."""

    facts: AppFacts
    icon_png: bytes | None
    icon_files: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BuildRecord:
    """``builds/<bundle_id>/<build_id>/build.json``."""

    bundle_id: str
    build_id: str
    facts: AppFacts
    upload_key: str
    uploader: str | None
    uploaded_at: str  # ISO 8601 UTC (the object's upload time from the S3 event)
    published_at: str  # ISO 8601 UTC
    has_icon: bool
    revoked_at: str | None = None
    # Distribution (docs/ARCHITECTURE.md): release notes (plain text), channel, and
    # the groups/addresses invited when the build was published.
    notes: str | None = None
    channel: str = DEFAULT_CHANNEL
    notify: tuple[str, ...] = ()
    # The manifest's sized icons stored besides icon.png (bucket_keys.ICON_PIXELS);
    # empty for icons that could not be resized and for builds published before them.
    icon_files: tuple[str, ...] = ()
    # Sorts uploads in S3's order (build_ids.upload_order); None for old records.
    upload_order: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": 1,
            "bundle_id": self.bundle_id,
            "build_id": self.build_id,
            **{k: v for k, v in self.facts.to_json().items() if k != "bundle_id"},
            "upload_key": self.upload_key,
            "uploader": self.uploader,
            "uploaded_at": self.uploaded_at,
            "published_at": self.published_at,
            "has_icon": self.has_icon,
            "icon_files": list(self.icon_files),
            "revoked_at": self.revoked_at,
            "upload_order": self.upload_order,
            "notes": self.notes,
            "channel": self.channel,
            "notify": list(self.notify),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildRecord:
        return cls(
            bundle_id=str(data["bundle_id"]),
            build_id=str(data["build_id"]),
            facts=AppFacts.from_json(data),
            upload_key=str(data.get("upload_key") or ""),
            uploader=data.get("uploader"),
            uploaded_at=str(data["uploaded_at"]),
            published_at=str(data["published_at"]),
            has_icon=bool(data.get("has_icon")),
            revoked_at=data.get("revoked_at"),
            notes=data.get("notes") if isinstance(data.get("notes"), str) else None,
            channel=str(data.get("channel") or DEFAULT_CHANNEL),
            notify=tuple(str(item) for item in data.get("notify") or ()),
            icon_files=tuple(
                name for name in data.get("icon_files") or () if isinstance(name, str)
            ),
            upload_order=data.get("upload_order"),
        )


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """One enrolled device (docs/ARCHITECTURE.md, "Devices and pre-install diagnosis").

    Stored by the ``DeviceStore`` port; strings are cleaned before they get here.
    """

    udid: str  # upper case
    product: str | None  # Apple's model id, e.g. "iPhone15,2"
    ios_version: str | None
    name: str | None
    serial: str | None
    email: str | None  # the invite's tester, when the token came from an invite
    invite_id: str | None
    enrolled_at: str  # ISO 8601 UTC
    verified: bool  # the device's signature chains to Apple's device CA

    @property
    def platform(self) -> str:
        """Apple's device import file wants "ios" (iPhone, iPad, iPod) or "mac"."""
        return "ios"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeviceRecord:
        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        return cls(
            udid=str(data["udid"]).upper(),
            product=text("product"),
            ios_version=text("ios_version"),
            name=text("name"),
            serial=text("serial"),
            email=text("email"),
            invite_id=text("invite_id"),
            enrolled_at=str(data.get("enrolled_at") or ""),
            verified=data.get("verified") is True,
        )
