"""Sharding a run: ``--shard I/N`` gives pod I of N a stable, disjoint part of the portfolio.

Large portfolios run as a Kubernetes Indexed Job: N pods, each with its own state store,
each computing and writing the scopes of its shard. Three rules make that safe:

- **Connected groups travel together.** A service and the products linked to it are
  combined in owner views, so they must be computed by the same pod. Scopes are grouped by
  the service ↔ product links (a product shared by two services joins them into one group).
- **Stable assignment.** A group's shard is a SHA-256 hash of its anchor id modulo N — not
  its position in the file — so adding, removing or reordering other scopes never moves it
  (a moved scope would have to be backfilled into another pod's state store). The anchor is
  the group's smallest service id, or its smallest product id when it has no service, so
  linking one more product to a service keeps the group where it was.
- **Separate state.** Each shard has its own state file (:func:`shard_state_path`), so the
  pods never share a SQLite file or a run lock.

Hash partitioning balances only on average: with few groups a shard may receive none (it
then has nothing to do and exits 0). Changing N reshuffles groups; the next run of a moved
scope backfills it in its new shard.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.errors import ConfigError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAX_SHARDS = 1000


class ShardError(ConfigError):
    """A ``--shard`` value that is not ``I/N`` with ``0 <= I < N``."""


def parse_shard(value: str) -> tuple[int, int]:
    """Parse ``"I/N"`` into ``(I, N)``: shard I (0-based) of N.

    Raises:
        ShardError: naming the option and what was expected.
    """
    match = _SHARD.match(value or "")
    if match is None:
        raise ShardError(f"--shard {value!r}: expected I/N with whole numbers, e.g. 0/4")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS:
        raise ShardError(f"--shard {value!r}: the shard count N must be 1 to {MAX_SHARDS}")
    if index >= count:
        raise ShardError(f"--shard {value!r}: the index I is 0-based and must be below N "
                         f"(0 to {count - 1})")
    return index, count


def shard_argument(value: str) -> tuple[int, int]:
    """:func:`parse_shard` as an argparse ``type=`` (a bad value is a usage error, exit 2)."""
    try:
        return parse_shard(value)
    except ShardError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_groups(portfolio: PortfolioSpec) -> list[tuple[str, frozenset[str]]]:
    """The connected groups of the portfolio as ``(anchor, scopes)``, sorted by anchor.

    Scopes are named ``service:<id>`` and ``product:<id>``. A product linked to no service
    is a group of its own; a link to an unknown product id still joins that id (validation
    of the portfolio reports it elsewhere).
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a: str, b: str) -> None:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)

    for service in portfolio.services:
        find(f"service:{service.id}")
        for product_id in service.products:
            union(f"service:{service.id}", f"product:{product_id}")
    for product in portfolio.products:
        find(f"product:{product.id}")

    members: dict[str, set[str]] = {}
    for node in parent:
        members.setdefault(find(node), set()).add(node)
    groups = [(_anchor(scopes), frozenset(scopes)) for scopes in members.values()]
    return sorted(groups)


def shard_of(anchor: str, count: int) -> int:
    """The shard (0-based) of a group anchor: SHA-256 of the anchor modulo ``count``."""
    digest = hashlib.sha256(anchor.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def shard_scopes(portfolio: PortfolioSpec, index: int, count: int) -> frozenset[str]:
    """The scopes (``service:<id>``, ``product:<id>``) that shard ``index`` of ``count`` owns."""
    _check(index, count)
    return frozenset(scope for anchor, scopes in build_groups(portfolio)
                     if shard_of(anchor, count) == index for scope in scopes)


def build_scope_owner(portfolio: PortfolioSpec, count: int) -> Callable[[str, str], int]:
    """A function ``(scope_type, scope) -> shard index`` for records already on a platform.

    Writers of a sharded run must consider only the target records their shard owns:
    otherwise shard 0 would retire shard 1's records as "no longer in the results". Scopes
    no longer in the portfolio belong to shard 0, so exactly one shard retires them.

    Args:
        portfolio: the *whole* portfolio (not a shard of it).
        count: the number of shards.
    """
    _check(0, count)
    owner = {scope: shard_of(anchor, count)
             for anchor, scopes in build_groups(portfolio) for scope in scopes}

    def shard_owning(scope_type: str, scope: str) -> int:
        return owner.get(f"{scope_type}:{scope}", 0)

    return shard_owning


def shard_portfolio(portfolio: PortfolioSpec, index: int, count: int) -> PortfolioSpec:
    """The part of ``portfolio`` that shard ``index`` of ``count`` computes and writes.

    Services and products keep their order in the file. The union of all shards is the
    whole portfolio and no scope is in two shards.

    Raises:
        ShardError: ``index`` or ``count`` out of range.
    """
    if count == 1:
        _check(index, count)
        return portfolio
    mine = shard_scopes(portfolio, index, count)
    return portfolio.model_copy(update={
        "services": tuple(s for s in portfolio.services if f"service:{s.id}" in mine),
        "products": tuple(p for p in portfolio.products if f"product:{p.id}" in mine),
    })


def shard_state_path(path: str | Path, index: int, count: int) -> Path:
    """The state file of one shard: ``fiveo-state.sqlite`` -> ``fiveo-state.shard-1-of-4.sqlite``.

    ``count == 1`` (no sharding) keeps ``path`` unchanged, so an unsharded deployment can
    switch to ``--shard 0/1`` without losing its state.
    """
    _check(index, count)
    path = Path(path)
    if count == 1:
        return path
    return path.with_name(f"{path.stem}.shard-{index}-of-{count}{path.suffix}")


def _anchor(scopes: set[str]) -> str:
    services = sorted(s for s in scopes if s.startswith("service:"))
    return services[0] if services else min(scopes)


def _check(index: int, count: int) -> None:
    if not 1 <= count <= MAX_SHARDS or not 0 <= index < count:
        raise ShardError(f"shard {index}/{count}: expected 0 <= I < N <= {MAX_SHARDS}")
