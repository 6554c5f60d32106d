"""Deterministic identifiers in Microsoft's formats, derived from the tenant's seed.

Item ids follow OneDrive for Business's shape ("01" + 32 base32 characters) but are
reversible: they carry the drive number and item position, sealed with a keyed MAC so that a
made-up id is recognised as unknown instead of being mistaken for a real item.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import uuid
from functools import lru_cache

IDS_KEPT = 200_000  # item ids (and parsed ids) kept per tenant


class IdMaker:
    def __init__(self, seed: int) -> None:
        self._key = hashlib.sha256(f"plaza-emulator:{seed}".encode()).digest()
        # Ids are read far more often than made (every request names items): each is kept.
        self.item_id = lru_cache(maxsize=IDS_KEPT)(self._item_id)  # type: ignore[method-assign]
        self.parse_item_id = lru_cache(maxsize=IDS_KEPT)(self._parse_item_id)  # type: ignore[method-assign]

    def _digest(self, *parts: object, size: int = 16) -> bytes:
        message = "\x1f".join(str(p) for p in parts).encode()
        return hmac.new(self._key, message, hashlib.blake2s).digest()[:size]

    def guid(self, *parts: object) -> str:
        """A stable version-4-shaped GUID for whatever `parts` name."""
        return str(uuid.UUID(bytes=self._digest(*parts), version=4))

    def number(self, *parts: object) -> int:
        """A stable 64-bit number for whatever `parts` name (the generator's dice)."""
        return int.from_bytes(self._digest(*parts, size=8), "big")

    def _item_id(self, drive_number: int, index: int) -> str:
        payload = struct.pack(">II", drive_number, index)
        mac = self._digest("item", payload, size=12)
        pad = self._digest("pad", mac, size=8)
        sealed = mac + bytes(a ^ b for a, b in zip(payload, pad, strict=True))
        return "01" + base64.b32encode(sealed).decode()

    def _parse_item_id(self, item_id: str) -> tuple[int, int] | None:
        """(drive_number, index) of an id this tenant issued, else None."""
        if len(item_id) != 34 or not item_id.startswith("01"):
            return None
        try:
            sealed = base64.b32decode(item_id[2:].upper())
        except ValueError:
            return None
        mac, masked = sealed[:12], sealed[12:]
        pad = self._digest("pad", mac, size=8)
        payload = bytes(a ^ b for a, b in zip(masked, pad, strict=True))
        if not hmac.compare_digest(mac, self._digest("item", payload, size=12)):
            return None
        drive_number, index = struct.unpack(">II", payload)
        return drive_number, index

    def item_guid(self, drive_number: int, index: int) -> str:
        """The item's unique GUID: in its eTag/cTag and as SharePoint's listItemUniqueId."""
        return self.guid("item-guid", drive_number, index).upper()

    @staticmethod
    def drive_id(site_collection_id: str, web_id: str, list_id: str) -> str:
        """ "b!" + base64url(site collection, web and list GUIDs), as SharePoint forms drive ids."""
        raw = b"".join(uuid.UUID(g).bytes_le for g in (site_collection_id, web_id, list_id))
        return "b!" + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def permission_id(text: str) -> str:
        """Permission ids in SharePoint are opaque base64 strings of the principal's claim."""
        return base64.b64encode(text.encode()).decode().rstrip("=")
