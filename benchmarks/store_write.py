"""What the stream-marks triggers cost a pull: ``save_page`` per record, with and without.

``python -m benchmarks.store_write [records]`` writes ``records`` incidents (default
120,000, the pull benchmark's ServiceNow size) in pages of 1,000 into two fresh state
stores in the same run — one as the store is (triggers keeping ``stream_marks``), one with
the triggers dropped (the store's writes before schema v5, apart from the upsert) — first
as new records, then replaced by newer versions, and prints µs per record of each and the
ratio. Payloads are 700-byte JSON objects, about a ServiceNow incident row.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from connectors.base import Page, RawRecord  # noqa: E402
from fiveo_sync.state import StateStore  # noqa: E402

PAGE = 1_000


def _pages(records: int, round_no: int) -> list[Page]:
    filler = "x" * 600
    pages = []
    for start in range(0, records, PAGE):
        rows = [RawRecord(f"{n:032x}", f"2025-0{round_no}-01T00:00:{n % 60:02d}Z",
                          {"number": f"INC{n:07d}", "round": round_no, "text": filler})
                for n in range(start, min(start + PAGE, records))]
        pages.append(Page("servicenow", "incident", rows))
    return pages


def _timed(path: Path, pages: list[Page]) -> float:
    with StateStore(path) as store:
        started = time.perf_counter()
        for page in pages:
            store.save_page(page)
        return time.perf_counter() - started


def run(records: int) -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("triggers", "no_triggers"):
            path = Path(tmp) / f"{label}.sqlite"
            with StateStore(path) as store:
                if label == "no_triggers":
                    for name in ("insert", "delete", "update"):
                        store._conn.execute(f"DROP TRIGGER records_marks_{name}")
            for phase, round_no in (("insert", 1), ("replace", 2)):
                seconds = _timed(path, _pages(records, round_no))
                out[f"{label}_{phase}_us"] = round(seconds / records * 1e6, 1)
    for phase in ("insert", "replace"):
        out[f"{phase}_ratio"] = round(out[f"triggers_{phase}_us"] /
                                      out[f"no_triggers_{phase}_us"], 2)
    return out


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 120_000
    print(json.dumps({"records": count, **run(count)}, sort_keys=True))
