"""Faults, mutations while paging, killed pulls and bad credentials."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.errors import AuthError
from fiveo_sync.state import StateStore


def test_twenty_percent_faults_of_every_kind_give_the_same_end_state(
        sandbox: ServiceNowSandbox, store: StateStore, sn) -> None:
    sandbox.faults.slow_s = 1.0
    sandbox.set_faults(0.2)
    for kind in ("429", "500", "503", "slow", "drop", "truncate"):  # each kind at least once
        sandbox.fail_next(kind)
    conn = sn.connect(sandbox, page_size=300, timeout_s=0.5)
    sn.pull(conn, store, ["incident", "change_request", "sys_user"])
    incidents = sandbox.table("incident")
    sandbox.update("incident", incidents[5]["sys_id"], state="2")
    sandbox.delete("incident", incidents[6]["sys_id"])
    sandbox.advance(120)
    sn.pull(conn, store, ["incident", "change_request", "sys_user"])
    sandbox.set_faults(0.0)
    assert set(sandbox.faults.injected) == {"429", "500", "503", "slow", "drop", "truncate"}
    assert conn.stats.retries > 0
    for stream in ("incident", "change_request", "sys_user"):
        assert store.record_versions("servicenow", stream) == sn.versions(sandbox, stream)


def _offset_pull(sandbox: ServiceNowSandbox, limit: int) -> set[str]:
    user, password = sandbox.credentials["integration"]
    seen: set[str] = set()
    offset = 0
    while True:
        body = requests.get(f"{sandbox.url}/api/now/v2/table/incident", auth=(user, password),
                            params={"sysparm_query": "ORDERBYsys_updated_on",
                                    "sysparm_fields": "sys_id", "sysparm_limit": limit,
                                    "sysparm_offset": offset}, timeout=10,
                            verify=sandbox.ca_bundle).json()["result"]
        if not body:
            return seen
        seen.update(r["sys_id"] for r in body)
        offset += limit


def _mutate_first_row_once(sandbox: ServiceNowSandbox) -> None:
    """After the first page, move an already-read row to the end (servicenow-api.md §10)."""
    first = min(sandbox.table("incident"), key=lambda r: (r["sys_updated_on"], r["sys_id"]))
    done = []

    def hook(table: str, _request: object) -> None:
        if table == "incident" and not done:
            done.append(True)
            sandbox.update("incident", first["sys_id"], short_description="edited mid-pull")
    sandbox.on_list(hook)


def test_offset_paging_loses_a_record_when_rows_change_but_keyset_does_not(
        sandbox: ServiceNowSandbox, store: StateStore, sn) -> None:
    before = {r["sys_id"] for r in sandbox.table("incident")}
    _mutate_first_row_once(sandbox)
    conn = sn.connect(sandbox, page_size=200)
    sn.pull(conn, store, ["incident"])
    assert set(store.record_versions("servicenow", "incident")) == before

    _mutate_first_row_once(sandbox)
    offset_seen = _offset_pull(sandbox, limit=200)
    assert before - offset_seen, "offset paging should have skipped a shifted row"

    sandbox.on_list(None)
    sandbox.advance(120)
    sn.pull(conn, store, ["incident"])
    assert store.record_versions("servicenow", "incident") == sn.versions(sandbox, "incident")


def test_bad_credentials_raise_auth_error_with_the_platform_message_and_no_secret(
        sandbox: ServiceNowSandbox, store: StateStore, sn) -> None:
    conn = sn.connect(sandbox, password="wrong-secret-value-123")
    with pytest.raises(AuthError) as caught:
        sn.pull(conn, store, ["incident"])
    text = str(caught.value)
    assert "User Not Authenticated" in text
    assert "wrong-secret-value-123" not in text
    assert store.get_bookmark("servicenow", "incident") is None


def test_readonly_user_reads_but_cannot_write(sandbox: ServiceNowSandbox) -> None:
    user, password = sandbox.credentials["readonly"]
    got = requests.get(f"{sandbox.url}/api/now/table/sys_user?sysparm_limit=1",
                       auth=(user, password), timeout=10, verify=sandbox.ca_bundle)
    assert got.status_code == 200
    denied = requests.post(f"{sandbox.url}/api/now/table/incident", json={"short_description": "x"},
                           auth=(user, password), timeout=10, verify=sandbox.ca_bundle)
    assert denied.status_code == 403
    assert denied.json() == {"error": {"message": "User Not Authorized",
                                       "detail": "Failed API level ACL Validation"},
                             "status": "failure"}


_PULL_SCRIPT = textwrap.dedent("""
    import sys, time
    from fiveo_sync.settings import HttpSettings, Settings
    from connectors.servicenow import build_connector
    from connectors.servicenow.settings import ServiceNowSettings
    from fiveo_sync.state import StateStore
    from datetime import datetime, timezone
    url, user, password, db, now, slow, ca_bundle = sys.argv[1:8]
    start = datetime.fromisoformat(now)
    settings = Settings(servicenow=ServiceNowSettings(instance_url=url, username=user,
                        password=password, page_size=100),
                        http=HttpSettings(timeout_s=10, verify=True, ca_bundle=ca_bundle))
    conn = build_connector(settings, clock=lambda: start)
    store = StateStore(db)
    for stream in ("incident", "task_sla"):
        for page in conn.iter_pages(stream, store.get_bookmark("servicenow", stream)):
            store.save_page(page)
            print("page", flush=True)
            time.sleep(float(slow))
    print("done", flush=True)
""")


@pytest.mark.slow
def test_sigkill_mid_pull_then_rerun_gives_the_same_store(sandbox: ServiceNowSandbox,
                                                          tmp_path: Path, sn) -> None:
    script = tmp_path / "pull.py"
    script.write_text(_PULL_SCRIPT)
    user, password = sandbox.credentials["integration"]
    now = sandbox.clock().isoformat()

    def run(db: Path, slow: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(script), sandbox.url, user, password,
                                 str(db), now, slow, sandbox.ca_bundle],
                                stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": os.getcwd()})

    killed_db = tmp_path / "killed.sqlite"
    victim = run(killed_db, "0.05")
    pages = 0
    assert victim.stdout is not None
    while pages < 5:
        if victim.stdout.readline().startswith("page"):
            pages += 1
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    victim.stdout.close()
    rerun = run(killed_db, "0")
    assert rerun.communicate(timeout=120)[0].strip().endswith("done")
    clean_db = tmp_path / "clean.sqlite"
    clean = run(clean_db, "0")
    assert clean.communicate(timeout=120)[0].strip().endswith("done")
    time.sleep(0.1)
    with StateStore(killed_db) as killed, StateStore(clean_db) as reference:
        for stream in ("incident", "task_sla"):
            assert (killed.record_versions("servicenow", stream)
                    == reference.record_versions("servicenow", stream)
                    == sn.versions(sandbox, stream))
