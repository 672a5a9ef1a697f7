"""Uploads on S3-compatible object storage (issue 13.5): QZT_STORAGE_URL=s3://bucket/prefix with the
QZT_S3_* settings. The tests start moto's S3 server on a free loopback port and boto3 talks HTTP to it,
as it would to OSS or MinIO: nothing is mocked in this process."""

import io
import json
import re
import secrets
from pathlib import Path, PurePosixPath

import pytest
import sqlalchemy as sa
from burst import marker, sha256, stored_path, unique_pdf
from factories import PASSWORD
from instances import empty_instance
from moto.server import ThreadedMotoServer
from onboarding_helpers import PDF, PNG, post_step
from shared_fixtures import csrf, log_in

from qzt import create_app
from qzt.config import STORAGE_SETTINGS
from qzt.core import backup, files, s3
from qzt.core.storage import LocalStorage
from qzt.extensions import db
from qzt.models import StoredFile

PREFIX = "uploads"
GENERATED_KEY = re.compile(r"[0-9a-f]{32}\.(pdf|png)")


@pytest.fixture(scope="module")
def endpoint():
    """moto's S3 server, for this module's tests: a real HTTP server in a thread of this process."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class Bucket:
    """A new, empty bucket on the test server, and the settings that make it a site's storage."""

    def __init__(self, endpoint: str):
        self.name = f"qzt-{secrets.token_hex(6)}"
        self.url = f"s3://{self.name}/{PREFIX}"
        self.settings = {
            "QZT_STORAGE_URL": self.url,
            "QZT_S3_ENDPOINT_URL": endpoint,
            "QZT_S3_ACCESS_KEY_ID": "test-key-id",
            "QZT_S3_SECRET_ACCESS_KEY": "test-secret-key",
            "QZT_S3_REGION": "us-east-1",
            "QZT_S3_ADDRESSING_STYLE": "path",  # moto, like MinIO, on a bare address
        }
        self.client = s3.client(self.settings)
        self.client.create_bucket(Bucket=self.name)

    def objects(self) -> dict[str, bytes]:
        """Every object in the bucket, by its full name."""
        listing = self.client.list_objects_v2(Bucket=self.name).get("Contents", [])
        return {
            item["Key"]: self.client.get_object(Bucket=self.name, Key=item["Key"])["Body"].read()
            for item in listing
        }


@pytest.fixture
def bucket(endpoint, monkeypatch):
    """A new bucket, named by the environment as the storage of every app made during the test."""
    made = Bucket(endpoint)
    for name, value in made.settings.items():
        monkeypatch.setenv(name, value)
    return made


@pytest.fixture
def app(bucket, app):
    """The app under test (conftest's), made while the environment names the bucket."""
    return app


@pytest.fixture
def target(database_url, tmp_path):
    """An empty instance to restore into; its storage is what the environment says when it starts."""
    yield from empty_instance(database_url, tmp_path / "restored", "qzt_s3_restore")


def _upload_licence(client) -> bytes:
    data = unique_pdf(marker("licence"))
    response = post_step(client, 2, {"licence": (io.BytesIO(data), "licence.pdf")}, action="save")
    assert response.status_code == 302
    return data


def _stored() -> dict[str, str]:
    """key: SHA-256 of every upload the database refers to."""
    db.session.remove()
    return dict(db.session.execute(sa.select(StoredFile.key, StoredFile.sha256)).all())


def test_put_get_and_exists_round_trip_under_the_prefix_with_the_local_key_format(app, bucket, tmp_path):
    store = files.storage()
    assert isinstance(store, s3.S3Storage) and store.location == bucket.url
    key = store.put(PDF, "pdf")
    assert GENERATED_KEY.fullmatch(key)
    assert GENERATED_KEY.fullmatch(LocalStorage(tmp_path).put(PDF, "pdf"))  # the same format
    assert store.exists(key) and store.get(key) == PDF
    assert bucket.objects() == {f"{PREFIX}/{key}": PDF}

    absent = "0" * 32 + ".png"
    assert not store.exists(absent)
    with pytest.raises(KeyError):
        store.get(absent)
    with pytest.raises(KeyError):
        store.get(f"../{key}")  # a key never reaches outside the prefix

    store.put_as(absent, PNG)
    assert store.get(absent) == PNG
    bucket.client.put_object(Bucket=bucket.name, Key=f"{PREFIX}/notes.txt", Body=b"not an upload")
    bucket.client.put_object(Bucket=bucket.name, Key=key, Body=b"outside the prefix")
    assert sorted(store.keys()) == sorted([key, absent])


def test_uploads_through_the_site_land_in_the_bucket_and_download_back_byte_for_byte(
    app, bucket, login_as, make_institution
):
    applicant = login_as("institution", "13600000001")
    licence = _upload_licence(applicant)
    enterprise = login_as("enterprise", "13700000001")
    institution = make_institution()
    path = f"/institutions/{institution.id}/consult"
    attachment = unique_pdf(marker("consult"))
    asked = enterprise.post(
        path,
        data={
            "service_item": str(institution.services[0].id),
            "body": "请问检测周期多长？",
            "attachment": (io.BytesIO(attachment), "question.pdf"),
            "csrf_token": csrf(enterprise, path),
        },
        content_type="multipart/form-data",
    )
    assert asked.status_code == 302

    stored = {row.sha256: row for row in db.session.scalars(sa.select(StoredFile))}
    mine = {sha256(licence): (applicant, licence), sha256(attachment): (enterprise, attachment)}
    assert set(stored) == set(mine)
    assert bucket.objects() == {f"{PREFIX}/{row.key}": mine[digest][1] for digest, row in stored.items()}
    for digest, (client, data) in mine.items():
        response = client.get(f"/files/{stored[digest].id}")
        assert response.status_code == 200 and response.data == data

    # Nothing went to the local disk.
    assert not Path(files.upload_root()).exists()
    on_disk = [p.read_bytes() for p in Path(app.instance_path).rglob("*") if p.is_file()]
    assert licence not in on_disk and attachment not in on_disk


def test_a_backup_of_the_bucket_restores_into_a_fresh_bucket_and_into_a_folder(
    app, bucket, endpoint, runner, target, login_as, monkeypatch, tmp_path
):
    applicant = login_as("institution", "13600000001")
    for _ in range(3):
        _upload_licence(applicant)
    stored = _stored()
    folder = tmp_path / "backup"

    result = runner.invoke(args=["qzt", "backup", str(folder)])
    assert result.exit_code == 0, result.output
    assert "其中上传文件3个" in result.output and "警告" not in result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    entries = backup.uploads_in(manifest)
    assert {PurePosixPath(e["path"]).name: e["sha256"] for e in entries} == stored
    for entry in entries:  # the same layout as a backup of a folder
        key = PurePosixPath(entry["path"]).name
        assert entry["path"] == f"uploads/{key[:2]}/{key[2:4]}/{key}"
    assert manifest["missing_uploads"] == []

    fresh = Bucket(endpoint)
    monkeypatch.setenv("QZT_STORAGE_URL", fresh.url)
    restored = target.cli("restore", str(folder))
    assert restored.exit_code == 0, restored.output
    assert "上传文件3个已复制" in restored.output
    assert {name: sha256(data) for name, data in fresh.objects().items()} == {
        f"{PREFIX}/{key}": digest for key, digest in stored.items()
    }
    refused = target.cli("restore", str(folder))
    assert refused.exit_code == 1
    assert f"对象存储 {fresh.url} 中已有3个文件" in refused.output

    # The restored instance serves the files from the fresh bucket.
    restored_app = target.app()
    with restored_app.app_context():
        client = restored_app.test_client()
        assert log_in(client, "13600000001", PASSWORD).status_code == 302
        (file_id, digest), *_ = db.session.execute(sa.select(StoredFile.id, StoredFile.sha256)).all()
        response = client.get(f"/files/{file_id}")
        assert response.status_code == 200 and sha256(response.data) == digest
        db.session.remove()
        db.engine.dispose()

    # The same backup restores into a folder, when the target has no QZT_STORAGE_URL.
    monkeypatch.delenv("QZT_STORAGE_URL")
    forced = target.cli("restore", str(folder), "--force")
    assert forced.exit_code == 0, forced.output
    for key, digest in stored.items():
        assert sha256(stored_path(target.path / "uploads", key).read_bytes()) == digest, key


def test_a_backup_names_an_upload_the_database_refers_to_that_the_bucket_lost(
    app, bucket, runner, login_as, tmp_path
):
    applicant = login_as("institution", "13600000001")
    kept, lost = _upload_licence(applicant), _upload_licence(applicant)
    keys = {digest: key for key, digest in _stored().items()}
    bucket.client.delete_object(Bucket=bucket.name, Key=f"{PREFIX}/{keys[sha256(lost)]}")

    result = runner.invoke(args=["qzt", "backup", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    assert f"警告：数据库引用的1个上传文件在存储中不存在，未能备份：{keys[sha256(lost)]}" in result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["missing_uploads"] == [keys[sha256(lost)]]
    assert [e["sha256"] for e in backup.uploads_in(manifest)] == [sha256(kept)]


def _config(database_url: str, instance: Path, **extra) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret",
        **extra,
    }


@pytest.fixture
def no_storage_settings(monkeypatch):
    for name in STORAGE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_without_the_setting_uploads_stay_in_a_folder(database_url, tmp_path, no_storage_settings):
    cases = [
        ({}, tmp_path / "instance" / "uploads"),  # as before: instance/uploads
        ({"UPLOAD_ROOT": str(tmp_path / "root")}, tmp_path / "root"),  # UPLOAD_ROOT still honoured
        ({"QZT_STORAGE_URL": f"file://{tmp_path}/chosen%20folder"}, tmp_path / "chosen folder"),
    ]
    for extra, root in cases:
        made = create_app(_config(database_url, tmp_path / "instance", **extra))
        with made.app_context():
            store = files.storage()
            assert isinstance(store, LocalStorage) and store.root == root, extra
            db.engine.dispose()


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            {"QZT_STORAGE_URL": "ftp://files.example.cn/qzt"},
            "QZT_STORAGE_URL='ftp://files.example.cn/qzt': expected file:///absolute/path or s3://bucket/prefix",
        ),
        (
            {"QZT_STORAGE_URL": "s3:///uploads"},
            "QZT_STORAGE_URL='s3:///uploads': expected s3://bucket/prefix",
        ),
        ({"QZT_STORAGE_URL": "s3://Qzt_Uploads"}, "QZT_STORAGE_URL='s3://Qzt_Uploads': expected s3://bucket"),
        (
            {"QZT_STORAGE_URL": "file://instance/uploads"},
            "QZT_STORAGE_URL='file://instance/uploads': a folder is given as file:///absolute/path",
        ),
        (
            {"QZT_STORAGE_URL": "s3://qzt-uploads", "QZT_S3_ADDRESSING_STYLE": "sideways"},
            "QZT_S3_ADDRESSING_STYLE='sideways': expected path or virtual",
        ),
        (
            {"QZT_STORAGE_URL": "s3://qzt-uploads", "QZT_S3_ACCESS_KEY_ID": "LTAI5t"},
            "QZT_S3_SECRET_ACCESS_KEY is not set",
        ),
        (
            {"QZT_STORAGE_URL": "s3://qzt-uploads", "QZT_S3_ENDPOINT_URL": "oss-cn-guangzhou.aliyuncs.com"},
            "QZT_S3_ENDPOINT_URL='oss-cn-guangzhou.aliyuncs.com': expected the service's address",
        ),
    ],
)
def test_a_wrong_storage_setting_stops_the_app_from_starting(
    database_url, tmp_path, no_storage_settings, settings, message
):
    for name, value in settings.items():
        no_storage_settings.setenv(name, value)
    with pytest.raises(ValueError, match=re.escape(message)):
        create_app(_config(database_url, tmp_path / "instance"))
