"""Where document files are kept: a folder outside the web root, or an S3-compatible bucket.

Files are named by a random id (``new_key``), never by what the person called them, so a name
can neither reach another folder nor collide. Nothing here is served by the web server: every
download goes through the documents views, which check permission first.

- ``FolderStore``: ``DOCUMENTS_DIR`` (default ``<instance>/documents``), one file per version,
  in two levels of sub-folders by the id's first characters.
- ``S3Store``: when ``DOCUMENTS_S3_BUCKET`` is set (``DOCUMENTS_S3_ENDPOINT_URL``, ``…_REGION``,
  ``…_ACCESS_KEY_ID``, ``…_SECRET_ACCESS_KEY``, ``…_PREFIX``), through boto3.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any, Protocol

from flask import current_app

_KEY = re.compile(r"^[0-9a-f]{32}$")


class Store(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...


def new_key() -> str:
    return secrets.token_hex(16)


def _checked(key: str) -> str:
    # Keys are made by new_key; anything else is refused before it becomes a path or an object name.
    if not _KEY.match(key):
        raise ValueError("not a document storage key")
    return key


class FolderStore:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        key = _checked(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written beside and renamed: a reader never sees half a file, a crash leaves no partial one.
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()


class S3Store:
    """An S3-compatible bucket (AWS, MinIO, Ceph, Garage…). Objects are private; the app reads them."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None, **client_options: Any):
        if client is None:
            import boto3  # only needed when a bucket is configured
            from botocore.config import Config

            # A request waits for the store: short timeouts and few retries, so a store that is down
            # answers the person with a message within seconds instead of holding a worker.
            patience = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 2, "mode": "standard"})
            client = boto3.client("s3", config=patience, **{k: v for k, v in client_options.items() if v})
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    def _name(self, key: str) -> str:
        key = _checked(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()


def store() -> Store:
    """The configured store. An S3 client is made once per application; a folder costs nothing to name."""
    config = current_app.config
    if not config.get("DOCUMENTS_S3_BUCKET"):
        return FolderStore(config["DOCUMENTS_DIR"])
    found = current_app.extensions.get("forum_documents_s3")
    if found is None:
        found = S3Store(
            config["DOCUMENTS_S3_BUCKET"],
            prefix=config.get("DOCUMENTS_S3_PREFIX", ""),
            endpoint_url=config.get("DOCUMENTS_S3_ENDPOINT_URL"),
            region_name=config.get("DOCUMENTS_S3_REGION"),
            aws_access_key_id=config.get("DOCUMENTS_S3_ACCESS_KEY_ID"),
            aws_secret_access_key=config.get("DOCUMENTS_S3_SECRET_ACCESS_KEY"),
        )
        current_app.extensions["forum_documents_s3"] = found
    return found
