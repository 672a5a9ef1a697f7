"""Backup and restore (issue 13.3): `qzt backup DIR` copies the database and the uploads while the site
serves, with a manifest of SHA-256 hashes; `qzt restore DIR` checks it and fills an empty instance."""

import io
import json
import threading
import time
from pathlib import Path

import pytest
from burst import marker, query, row_counts, sha256, stored_path, unique_pdf
from factories import PASSWORD
from instances import empty_instance
from onboarding_helpers import PDF, post_step
from shared_fixtures import csrf, log_in

from qzt.core import backup, files
from qzt.extensions import db

BURST_SECONDS = 2.0


@pytest.fixture
def target(database_url, tmp_path):
    """An empty instance to restore into (its uploads in its instance folder)."""
    yield from empty_instance(database_url, tmp_path / "restored", "qzt_restore")


@pytest.fixture
def source(app):
    """The instance under test, as the commands see it."""
    return backup.Site(db.engine.url.render_as_string(hide_password=False), files.storage())


def _wizard_saves(client, stop: threading.Event, acked: list, errors: list) -> None:
    """An applicant saving step 2 again and again, each time with a new licence PDF."""
    try:
        token = csrf(client, "/onboarding/step/2")
        while not stop.is_set():
            data = unique_pdf(marker("licence"))
            response = client.post(
                "/onboarding/step/2",
                data={"licence": (io.BytesIO(data), "licence.pdf"), "action": "save", "csrf_token": token},
                content_type="multipart/form-data",
            )
            if response.status_code != 302:
                errors.append(f"step 2: {response.status_code}")
                return
            acked.append(sha256(data))
    except Exception as error:  # reported by the test
        errors.append(repr(error))


def _consultations(client, institution: tuple[int, int], stop: threading.Event, acked: list, errors: list):
    """An enterprise asking (institution id, service item id) question after question, each with a new
    attachment."""
    institution_id, item_id = institution
    try:
        path = f"/institutions/{institution_id}/consult"
        token = csrf(client, path)
        while not stop.is_set():
            text = marker("consult")
            data = unique_pdf(text)
            response = client.post(
                path,
                data={
                    "service_item": str(item_id),
                    "body": f"请问检测周期多长？{text}",
                    "attachment": (io.BytesIO(data), "question.pdf"),
                    "csrf_token": token,
                },
                content_type="multipart/form-data",
            )
            if response.status_code != 302:
                errors.append(f"consult: {response.status_code}")
                return
            acked.append(sha256(data))
    except Exception as error:  # reported by the test
        errors.append(repr(error))


def _wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the writers made no progress"
        time.sleep(0.02)


def test_a_backup_taken_during_a_burst_of_writes_restores_into_an_empty_instance(
    app, source, target, login_as, make_institution, tmp_path
):
    made = make_institution()
    institution = (made.id, made.services[0].id)
    enterprise = login_as("enterprise", "13700000001")
    applicant = login_as("institution", "13600000001")
    acked_wizard, acked_consult, errors = [], [], []
    stop = threading.Event()
    writers = [
        threading.Thread(target=_wizard_saves, args=(applicant, stop, acked_wizard, errors)),
        threading.Thread(target=_consultations, args=(enterprise, institution, stop, acked_consult, errors)),
    ]
    began = time.monotonic()
    for writer in writers:
        writer.start()
    try:
        _wait_for(lambda: errors or (len(acked_wizard) >= 3 and len(acked_consult) >= 3))
        acked_before = acked_wizard + acked_consult  # answered before the backup began
        started = time.monotonic()
        manifest = backup.backup(source, tmp_path / "backup")
        took = time.monotonic() - started
        wizard, consult = len(acked_wizard), len(acked_consult)
        answered_during = wizard + consult - len(acked_before)
        # The burst goes on after the copy too: BURST_SECONDS in all, and two more writes of each kind.
        _wait_for(lambda: errors or (len(acked_wizard) >= wizard + 2 and len(acked_consult) >= consult + 2))
        time.sleep(max(0.0, began + BURST_SECONDS - time.monotonic()))
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert not errors, errors
    print(f"backup took {took:.3f} s; {answered_during} writes answered meanwhile")

    db.session.remove()
    live = row_counts(source.database_url)
    copied = manifest["tables"]
    # The writes went on around the copy: it holds some of them, not all.
    assert 3 <= copied["consultations"] < live["consultations"]
    assert 6 <= copied["stored_files"] < live["stored_files"]
    assert manifest["alembic_revision"] and manifest["engine"] == target.site.engine

    restored = backup.restore(target.site, tmp_path / "backup")
    assert restored.mismatches == {}
    assert row_counts(target.url) == copied  # table by table

    # Every file the restored database refers to is there, byte for byte.
    rows = query(target.url, "SELECT key, sha256 FROM stored_files")
    assert len(rows) == copied["stored_files"]
    for key, digest in rows:
        assert sha256(stored_path(target.site.storage.root, key).read_bytes()) == digest, key
    # So is every upload the manifest lists (files newer than the database copy included).
    for entry in backup.uploads_in(manifest):
        path = target.site.storage.root / Path(entry["path"]).relative_to("uploads")
        assert sha256(path.read_bytes()) == entry["sha256"], entry["path"]
    # Each write answered before the backup began is in it.
    restored_hashes = {digest for _key, digest in rows}
    assert set(acked_before) <= restored_hashes

    # The restored instance serves them: the enterprise downloads its last attachment.
    restored_app = target.app()
    with restored_app.app_context():
        client = restored_app.test_client()
        assert log_in(client, "13700000001", PASSWORD).status_code == 302
        (file_id, digest), *_ = query(
            target.url,
            "SELECT f.id, f.sha256 FROM stored_files f JOIN consultation_messages m ON m.file_id = f.id "
            "ORDER BY f.id DESC",
        )
        response = client.get(f"/files/{file_id}")
        assert response.status_code == 200 and sha256(response.data) == digest
        db.session.remove()
        db.engine.dispose()


def test_the_commands_back_up_restore_and_refuse_a_target_that_holds_data(
    app, runner, target, login_as, tmp_path
):
    applicant = login_as("institution", "13600000001")
    licence = {"licence": (io.BytesIO(PDF), "licence.pdf")}
    assert post_step(applicant, 2, licence, action="save").status_code == 302
    folder = tmp_path / "backup"

    result = runner.invoke(args=["qzt", "backup", str(folder)])
    assert result.exit_code == 0, result.output
    assert "备份完成" in result.output and "其中上传文件1个" in result.output
    assert "清单 manifest.json" in result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["created_at"].endswith("+08:00")
    assert [f["path"] for f in manifest["files"]][0] == manifest["database"]

    again = runner.invoke(args=["qzt", "backup", str(folder)])
    assert again.exit_code == 1 and "已存在且不为空" in again.output

    first = target.cli("restore", str(folder))
    assert first.exit_code == 0, first.output
    assert "恢复完成" in first.output and "行数与清单一致" in first.output and "上传文件1个" in first.output

    refused = target.cli("restore", str(folder))
    assert refused.exit_code == 1
    assert "目标实例不为空" in refused.output and "users" in refused.output
    assert "上传目录" in refused.output and "--force" in refused.output

    forced = target.cli("restore", str(folder), "--force")
    assert forced.exit_code == 0, forced.output
    assert row_counts(target.url) == manifest["tables"]


def test_a_tampered_backup_is_refused_and_names_the_file(app, source, target, login_as, tmp_path):
    applicant = login_as("institution", "13600000001")
    for n in range(3):
        licence = {"licence": (io.BytesIO(unique_pdf(f"licence {n}")), "licence.pdf")}
        assert post_step(applicant, 2, licence, action="save").status_code == 302
    folder = tmp_path / "backup"
    manifest = backup.backup(source, folder)
    victim = backup.uploads_in(manifest)[1]["path"]
    path = folder / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit
    path.write_bytes(bytes(data))

    result = target.cli("restore", str(folder))
    assert result.exit_code == 1
    assert f"文件 {victim} 的SHA-256与清单不符" in result.output
    assert backup.occupied(target.site) == []  # nothing was restored

    path.unlink()
    assert f"缺少文件 {victim}" in target.cli("restore", str(folder)).output
    (folder / "manifest.json").unlink()
    assert "缺少 manifest.json" in target.cli("restore", str(folder)).output
