"""Sharded runs (--shard I/N): disjoint scopes, separate state, no shard retires another's."""

from __future__ import annotations

from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.logs import get_logger
from fiveo_sync.runner import Runner, RunOptions
from fiveo_sync.shard import shard_scopes, shard_state_path

LOG = get_logger("test")


def _live_scopes(sn):
    return {f"{row['u_scope_type']}:{row['u_scope']}" for row in sn.table("u_fiveo_indicator")
            if row["u_status"] != "retired"}


def test_two_shards_write_disjoint_scopes_and_leave_each_other_alone(platforms):
    portfolio = load_mappings(platforms.settings.mappings.dir).portfolio
    mine = [shard_scopes(portfolio, i, 2) for i in range(2)]
    assert mine[0] and mine[1] and not mine[0] & mine[1]
    runner = Runner(platforms.settings, clock=platforms.clock, log=LOG)

    first = runner.run(RunOptions(shard=(0, 2)))
    assert first.exit_code == 0
    written_by_0 = _live_scopes(platforms.sn)
    assert written_by_0 and written_by_0 <= mine[0]

    second = runner.run(RunOptions(shard=(1, 2)))
    assert second.exit_code == 0
    assert second.writes["servicenow"]["marked"] == 0  # shard 0's records are not "gone"
    both = _live_scopes(platforms.sn)
    assert written_by_0 < both and both - written_by_0 <= mine[1]

    again = runner.run(RunOptions(shard=(0, 2)))
    assert again.writes["servicenow"]["marked"] == 0
    assert _live_scopes(platforms.sn) == both
    for index in range(2):
        assert shard_state_path(platforms.settings.state.path, index, 2).exists()
