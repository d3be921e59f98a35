import argparse
from pathlib import Path

import pytest
import yaml

from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.errors import ConfigError
from fiveo_sync.shard import (
    build_groups,
    parse_shard,
    shard_argument,
    shard_of,
    shard_portfolio,
    shard_scopes,
    shard_state_path,
)

REPO = Path(__file__).resolve().parents[3]


def shipped_portfolio() -> PortfolioSpec:
    data = yaml.safe_load((REPO / "mappings" / "portfolio.yaml").read_text(encoding="utf-8"))
    return PortfolioSpec.model_validate(data)


def synthetic_portfolio(services: int = 40, products: int = 30) -> PortfolioSpec:
    """Services linked to 0-2 products, some products shared by two services."""
    product_ids = [f"prod-{i}" for i in range(products)]
    service_list = []
    for i in range(services):
        linked = [product_ids[(i * 7) % products]] if i % 3 else []
        if i % 5 == 0:
            linked.append(product_ids[(i * 11 + 1) % products])
        service_list.append({"id": f"svc-{i}", "business_service": f"Service {i}",
                             "products": sorted(set(linked))})
    return PortfolioSpec.model_validate({
        "version": 1, "kind": "portfolio", "services": service_list,
        "products": [{"id": p, "jira_projects": [f"P{i}X"]} for i, p in enumerate(product_ids)],
    })


def scopes_of(portfolio: PortfolioSpec) -> list[str]:
    return ([f"service:{s.id}" for s in portfolio.services]
            + [f"product:{p.id}" for p in portfolio.products])


@pytest.mark.parametrize("value, expected", [("0/1", (0, 1)), ("1/2", (1, 2)),
                                             ("3/4", (3, 4)), (" 2 / 8 ", (2, 8))])
def test_parse_shard_accepts_zero_based_index_below_count(value, expected):
    assert parse_shard(value) == expected


@pytest.mark.parametrize("value, message", [
    ("2/2", "0-based and must be below N (0 to 1)"),
    ("1/0", "the shard count N must be 1 to"),
    ("-1/2", "expected I/N"),
    ("a/b", "expected I/N"),
    ("1", "expected I/N"),
    ("", "expected I/N"),
])
def test_parse_shard_names_the_option_and_the_problem(value, message):
    with pytest.raises(ConfigError) as caught:
        parse_shard(value)
    assert f"--shard {value!r}" in str(caught.value)
    assert message in str(caught.value)
    assert caught.value.exit_code == 78


def test_shard_argument_is_an_argparse_usage_error():
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--shard", type=shard_argument)
    assert parser.parse_args(["--shard", "1/3"]).shard == (1, 3)
    with pytest.raises(argparse.ArgumentError, match="0-based"):
        parser.parse_args(["--shard", "3/3"])


@pytest.mark.parametrize("portfolio", [shipped_portfolio(), synthetic_portfolio()],
                         ids=["shipped", "synthetic"])
@pytest.mark.parametrize("count", [2, 3, 5])
def test_shards_cover_every_scope_exactly_once(portfolio, count):
    seen: list[str] = []
    for index in range(count):
        seen += scopes_of(shard_portfolio(portfolio, index, count))
    assert sorted(seen) == sorted(scopes_of(portfolio))


def test_two_shards_of_the_shipped_portfolio_are_disjoint_and_both_used():
    portfolio = shipped_portfolio()
    first, second = (set(scopes_of(shard_portfolio(portfolio, i, 2))) for i in (0, 1))
    assert first.isdisjoint(second)
    assert first | second == set(scopes_of(portfolio))
    assert first and second


@pytest.mark.parametrize("portfolio", [shipped_portfolio(), synthetic_portfolio()],
                         ids=["shipped", "synthetic"])
def test_a_service_stays_with_its_products(portfolio):
    for count in (2, 4):
        for index in range(count):
            part = shard_portfolio(portfolio, index, count)
            product_ids = {p.id for p in part.products}
            for service in part.services:
                assert set(service.products) <= product_ids, (service.id, index, count)
            # and every service linking a product of this shard is here too
            service_ids = {s.id for s in part.services}
            for service in portfolio.services:
                if product_ids & set(service.products):
                    assert service.id in service_ids


def test_a_product_shared_by_two_services_joins_them_in_one_group():
    portfolio = PortfolioSpec.model_validate({
        "version": 1, "kind": "portfolio",
        "services": [{"id": "a", "business_service": "A", "products": ["shared"]},
                     {"id": "b", "business_service": "B", "products": ["shared", "own"]},
                     {"id": "c", "business_service": "C"}],
        "products": [{"id": "shared"}, {"id": "own"}, {"id": "lonely"}],
    })
    groups = dict(build_groups(portfolio))
    assert groups["service:a"] == {"service:a", "service:b", "product:shared", "product:own"}
    assert groups["service:c"] == {"service:c"}
    assert groups["product:lonely"] == {"product:lonely"}


def test_assignment_does_not_depend_on_list_order_or_other_scopes():
    portfolio = synthetic_portfolio()
    reordered = portfolio.model_copy(update={
        "services": tuple(reversed(portfolio.services)),
        "products": tuple(reversed(portfolio.products)),
    })
    grown = PortfolioSpec.model_validate({
        **portfolio.model_dump(),
        "services": [*portfolio.model_dump()["services"],
                     {"id": "svc-new", "business_service": "New"}],
    })
    for index in range(3):
        original = shard_scopes(portfolio, index, 3)
        assert shard_scopes(reordered, index, 3) == original
        assert shard_scopes(grown, index, 3) - {"service:svc-new"} == original


def test_shard_of_is_a_fixed_hash_not_python_hash():
    # Pinned values: a change here would move every deployed scope to another pod.
    assert [shard_of("service:payments", n) for n in (2, 3, 4, 7)] == [0, 2, 2, 6]
    assert [shard_of("service:email", n) for n in (2, 3, 4, 7)] == [0, 1, 0, 0]


def test_one_shard_is_the_whole_portfolio():
    portfolio = shipped_portfolio()
    assert shard_portfolio(portfolio, 0, 1) is portfolio


def test_shard_portfolio_returns_the_same_type_keeping_file_order():
    portfolio = synthetic_portfolio()
    part = shard_portfolio(portfolio, 1, 3)
    assert isinstance(part, PortfolioSpec)
    order = [s.id for s in portfolio.services]
    assert [s.id for s in part.services] == [i for i in order if i in {s.id for s in part.services}]


def test_out_of_range_shard_is_rejected():
    with pytest.raises(ConfigError):
        shard_portfolio(shipped_portfolio(), 2, 2)


def test_shard_state_path_separates_state_per_shard(tmp_path):
    base = tmp_path / "fiveo-state.sqlite"
    assert shard_state_path(base, 0, 1) == base
    paths = {shard_state_path(base, i, 4) for i in range(4)}
    assert len(paths) == 4
    assert shard_state_path(base, 1, 4) == tmp_path / "fiveo-state.shard-1-of-4.sqlite"
    assert all(p.parent == tmp_path for p in paths)


def test_every_existing_record_has_exactly_one_owning_shard():
    from fiveo_sync.shard import build_scope_owner

    portfolio = synthetic_portfolio()
    owner = build_scope_owner(portfolio, 3)
    for index in range(3):
        for scope in shard_scopes(portfolio, index, 3):
            scope_type, scope_id = scope.split(":")
            assert owner(scope_type, scope_id) == index
    # a scope removed from the portfolio is retired by shard 0 only
    assert owner("service", "removed-long-ago") == 0
