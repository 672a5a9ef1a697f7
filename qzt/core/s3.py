"""Uploads on S3-compatible object storage (Alibaba Cloud OSS, MinIO, Amazon S3), through boto3:
QZT_STORAGE_URL=s3://bucket/prefix, with the service named by the QZT_S3_* settings.

Objects are named prefix/key, flat: the two-level folders LocalStorage uses keep directories small, and
a bucket has none. They are private (the bucket's default): the site hands them out at /files/<id>,
after its own permission check, never by a link to the bucket.
"""

import base64
import hashlib
import re
from collections.abc import Iterator, Mapping
from contextlib import closing
from urllib.parse import unquote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from qzt.core.storage import KEY, STORAGE_URL, check_key, new_key

ENDPOINT_URL = "QZT_S3_ENDPOINT_URL"
ACCESS_KEY_ID = "QZT_S3_ACCESS_KEY_ID"
SECRET_ACCESS_KEY = "QZT_S3_SECRET_ACCESS_KEY"
REGION = "QZT_S3_REGION"
ADDRESSING_STYLE = "QZT_S3_ADDRESSING_STYLE"
STYLES = ("path", "virtual")
# S3's rule for bucket names (OSS's is the same without dots): 3-63 lowercase letters, digits, dots and
# hyphens, a letter or digit at each end.
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Error codes for "no such object": GetObject says NoSuchKey, HeadObject (no body) only its status.
MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Storage:
    """Objects in one bucket under one prefix; the client is boto3's (safe to share between threads)."""

    def __init__(self, client, bucket: str, prefix: str = ""):
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, data: bytes, extension: str) -> str:
        key = new_key(extension)
        self.put_as(key, data)
        return key

    def put_as(self, key: str, data: bytes) -> None:
        """Store the bytes durably. The service answers a PUT only once the object is stored (replicated,
        on AWS S3 and OSS, across devices or zones) and readable by every later request: returning here
        promises what LocalStorage's fsync does. Content-MD5 makes the service refuse bytes damaged on
        the way; boto3's own checksums are off (see _config)."""
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._name(key),
            Body=data,
            ContentMD5=base64.b64encode(digest).decode(),
        )

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _missing(error):
                raise KeyError(key) from None
            raise
        with closing(response["Body"]) as body:
            return body.read()

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def keys(self) -> Iterator[str]:
        """Every stored key under the prefix, page by page (1,000 a request)."""
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start)
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(start) :]
                if KEY.fullmatch(key):
                    yield key


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING


def from_url(url: str, settings: Mapping) -> S3Storage:
    """S3Storage for s3://bucket/prefix and the QZT_S3_* settings; ValueError names a wrong one. Nothing
    is sent to the service here: the app starts while it is out of reach, and says so at the upload."""
    parts = urlsplit(url)
    bucket = parts.netloc
    if not BUCKET.fullmatch(bucket) or parts.query or parts.fragment:
        raise ValueError(
            f"{STORAGE_URL}={url!r}: expected s3://bucket/prefix, the bucket named as the service names it "
            f"(3-63 lowercase letters, digits, dots or hyphens), e.g. s3://qzt-uploads/uploads; "
            f"the endpoint and keys go in {ENDPOINT_URL}, {ACCESS_KEY_ID} and {SECRET_ACCESS_KEY}"
        )
    return S3Storage(client(settings), bucket, unquote(parts.path))


def client(settings: Mapping):
    """A boto3 S3 client for the QZT_S3_* settings. Without keys, boto3 finds its own (AWS_* variables,
    ~/.aws, an instance's role)."""
    endpoint = _setting(settings, ENDPOINT_URL)
    endpoint_parts = urlsplit(endpoint or "")
    if endpoint and (endpoint_parts.scheme not in ("http", "https") or not endpoint_parts.hostname):
        raise ValueError(
            f"{ENDPOINT_URL}={endpoint!r}: expected the service's address, "
            "e.g. https://s3.oss-cn-guangzhou-internal.aliyuncs.com or http://127.0.0.1:9000"
        )
    key_id, secret = _setting(settings, ACCESS_KEY_ID), _setting(settings, SECRET_ACCESS_KEY)
    if bool(key_id) != bool(secret):
        missing = SECRET_ACCESS_KEY if key_id else ACCESS_KEY_ID
        raise ValueError(f"{missing} is not set: give {ACCESS_KEY_ID} and {SECRET_ACCESS_KEY} together")
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=_setting(settings, REGION),
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=_config(_style(settings)),
    )


def _style(settings: Mapping) -> str:
    """path (bucket in the path: MinIO) or virtual (bucket in the host name: OSS requires it); unset,
    boto3's choice: path with an endpoint given, virtual on AWS."""
    style = (_setting(settings, ADDRESSING_STYLE) or "auto").lower()
    if style not in (*STYLES, "auto"):
        raise ValueError(f"{ADDRESSING_STYLE}={style!r}: expected path or virtual")
    return style


def _config(style: str) -> Config:
    return Config(
        s3={"addressing_style": style},
        # Checksums only where an operation requires one. Since boto3 1.36 every upload carries CRC
        # headers (and may be sent aws-chunked), which OSS and older MinIO refuse; put_as sends
        # Content-MD5, which every S3-compatible service checks.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # An upload waits for the service at most this long before the request answers an error.
        connect_timeout=5,
        read_timeout=30,
        retries={"mode": "standard", "max_attempts": 3},
        # One client serves every thread of a worker (gunicorn.conf.py: 16, or more): a connection each.
        max_pool_connections=32,
    )


def _setting(settings: Mapping, name: str) -> str | None:
    return (settings.get(name) or "").strip() or None
