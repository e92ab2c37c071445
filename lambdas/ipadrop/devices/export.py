"""Apple's device import file (pure): what "Register Multiple Devices" on the
Apple Developer site accepts. See docs/ARCHITECTURE.md, "Devices and pre-install
diagnosis".

Tab-separated, a header line ``Device ID<TAB>Device Name<TAB>Device Platform``,
one device a line; the platform is ``ios`` (iPhone, iPad, iPod) or ``mac``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

APPLE_HEADER = "Device ID\tDevice Name\tDevice Platform"
_NAME_UNSAFE = re.compile(r"[\t\r\n\x00-\x1f\x7f]")
MAX_NAME_LENGTH = 50  # Apple refuses longer device names


def apple_device_file(devices: Iterable[Mapping[str, Any]]) -> str:
    lines = [APPLE_HEADER]
    for device in devices:
        udid = str(device.get("udid") or "")
        if not udid:
            continue
        fallback = device.get("product") or udid[-8:]
        name = _NAME_UNSAFE.sub(" ", str(device.get("name") or fallback)).strip()
        lines.append(f"{udid}\t{name[:MAX_NAME_LENGTH] or udid[-8:]}\tios")
    return "\n".join(lines) + "\n"
