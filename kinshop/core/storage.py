"""Private file storage: documents only the operator may read (a supplier's
business licence, its brand authorisation). Never under MEDIA_ROOT, so never
served by the media route or a front server; it has no URL at all. The admin
streams a document to a signed-in operator."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage


def private_root() -> Path:
    """KINSHOP_PRIVATE_ROOT, or a `private` folder beside MEDIA_ROOT."""
    configured = getattr(settings, "KINSHOP_PRIVATE_ROOT", "")
    return Path(configured) if configured else Path(settings.MEDIA_ROOT).parent / "private"


class PrivateStorage(FileSystemStorage):
    """A file system storage whose root follows the settings and that has no URL."""

    def __init__(self) -> None:
        super().__init__(base_url=None)

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(private_root())

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name) -> str:
        raise ValueError("Private files have no public URL.")

    def deconstruct(self):
        return ("kinshop.core.storage.PrivateStorage", (), {})


private_storage = PrivateStorage()
