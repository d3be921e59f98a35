"""The stream marks kept by triggers equal the aggregate over the stored records."""

import random
import sqlite3

from connectors.base import Page, RawRecord
from fiveo_sync.canonical.digest import _MARKS_AGGREGATED, fetch_stream_marks
from fiveo_sync.state import StateStore


def _aggregated(path):
    with sqlite3.connect(path) as conn:
        return {(s, t): [n, newest, total]
                for s, t, n, newest, total in conn.execute(_MARKS_AGGREGATED)}


def _stamp(rng: random.Random) -> str:
    day = rng.randint(1, 28)
    if rng.random() < 0.05:
        return f"not a date {day}"  # unixepoch() is NULL: counted, not summed
    return f"2025-02-{day:02d}T{rng.randint(0, 23):02d}:00:00Z"


def test_marks_follow_inserts_replacements_and_deletions(tmp_path):
    path = tmp_path / "s.sqlite"
    rng = random.Random(12)
    with StateStore(path) as store:
        for round_no in range(60):
            stream = rng.choice(["incident", "change_request"])
            keys = [str(rng.randint(1, 40)) for _ in range(rng.randint(0, 12))]
            records = [RawRecord(k, _stamp(rng), {"round": round_no}) for k in dict.fromkeys(keys)]
            gone = [str(rng.randint(1, 40)) for _ in range(rng.randint(0, 4))]
            store.save_page(Page("servicenow", stream, records, deleted_keys=gone,
                                 insert_only=rng.random() < 0.2))
            assert fetch_stream_marks(path) == _aggregated(path), round_no
        # every record of a stream deleted: the stream has no marks, like no records
        for stream in ("incident", "change_request"):
            store.save_page(Page("servicenow", stream,
                                 deleted_keys=[str(k) for k in range(1, 41)]))
    assert fetch_stream_marks(path) == _aggregated(path) == {}


def test_a_replaced_newest_record_moves_the_newest_stamp_back(tmp_path):
    path = tmp_path / "s.sqlite"
    with StateStore(path) as store:
        store.save_page(Page("jira", "issue", [RawRecord("a", "2025-01-01T00:00:00Z", {}),
                                               RawRecord("b", "2025-03-01T00:00:00Z", {})]))
        store.save_page(Page("jira", "issue", [RawRecord("b", "2024-12-01T00:00:00Z", {})]))
    assert fetch_stream_marks(path)[("jira", "issue")][:2] == [2, "2025-01-01T00:00:00Z"]
    assert fetch_stream_marks(path) == _aggregated(path)
