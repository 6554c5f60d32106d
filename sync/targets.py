"""What a documents job mirrors: which sites and libraries, and which items within them."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentTarget:
    """Sites are chosen by one of: all, URLs, a search; libraries optionally narrow them.

    `include`/`exclude` are globs on the item's path below its library root ("/Clients/*");
    `file_types` are extensions without the dot ("pdf"). Folders are always kept, so that
    paths and permissions of what is kept can be derived.
    """

    all_sites: bool = False
    site_urls: tuple[str, ...] = ()
    site_search: str | None = None
    libraries: tuple[str, ...] = ()  # library names ("Documents") or drive ids
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    file_types: tuple[str, ...] = ()

    def keeps_library(self, drive_id: str, name: str | None) -> bool:
        return not self.libraries or drive_id in self.libraries or (name or "") in self.libraries

    def keeps_file(self, path: str, file_type: str | None) -> bool:
        if self.file_types and (file_type or "").lower() not in self.file_types:
            return False
        if self.include and not any(fnmatch.fnmatchcase(path, g) for g in self.include):
            return False
        return not any(fnmatch.fnmatchcase(path, g) for g in self.exclude)
