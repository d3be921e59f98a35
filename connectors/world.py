"""The one organisation both sandboxes describe.

For a given seed and scale, the ServiceNow and Jira sandboxes generate their data from the
same :class:`World`: the same people, the same business services, the same Jira products
(project keys, boards) and the same number of issues per project, so that Jira keys quoted
in ServiceNow change descriptions name issues that exist in the Jira sandbox.

Everything here is deterministic: ``random.Random(seed)`` drives every choice, and all
times are relative to ``World.now`` (an injected clock, never read here).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

_FIRST_NAMES = (
    "Alice", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kavya", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara",
    "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zoe",
)
_LAST_NAMES = (
    "Martin", "Okafor", "Lindqvist", "Tanaka", "Moreau", "Haddad", "Novak", "Silva", "Berg",
    "Kowalski", "Iyer", "Brennan", "Costa", "Weber", "Nakamura", "Duarte",
)
# (service name, Jira project key, product name) — the portfolio backbone.
_CATALOGUE = (
    ("Payments", "PAY", "Payments Web"),
    ("Email", "MAIL", "Mail Platform"),
    ("Customer Portal", "PORT", "Customer Portal"),
    ("Identity", "IAM", "Identity Service"),
    ("Data Warehouse", "DWH", "Analytics Platform"),
    ("HR Self-Service", "HR", "HR Apps"),
    ("Field Service", "FSM", "Field Mobile"),
    ("Billing", "BILL", "Billing Engine"),
    ("Network", "NET", "Network Automation"),
    ("Search", "SRCH", "Search Relevance"),
    ("Logistics", "LOG", "Logistics Tracker"),
    ("Messaging", "MSG", "Messaging Hub"),
    ("Catalogue", "CAT", "Product Catalogue"),
    ("Partner API", "PAPI", "Partner Gateway"),
    ("Reporting", "REP", "Reporting Suite"),
    ("Storage", "STOR", "Storage Services"),
    ("Telephony", "TEL", "Contact Centre"),
    ("Mobile Banking", "MOB", "Mobile App"),
    ("Fraud Detection", "FRD", "Fraud Models"),
    ("Procurement", "PRC", "Procurement Portal"),
)
_TIME_ZONES = (
    "Europe/Paris", "America/New_York", "Asia/Shanghai", "Australia/Sydney",
    "America/Los_Angeles", "Asia/Kolkata", "Europe/London",
)


@dataclass(frozen=True)
class ScaleSpec:
    """How much data one scale generates (totals across the organisation)."""

    services: int
    products: int
    people: int
    incidents: int
    changes: int
    problems: int
    jira_issues: int
    history_days: int


SCALES: dict[str, ScaleSpec] = {
    "small": ScaleSpec(services=6, products=4, people=30, incidents=3_000, changes=600,
                       problems=150, jira_issues=2_000, history_days=180),
    "medium": ScaleSpec(services=20, products=10, people=120, incidents=50_000,
                        changes=10_000, problems=2_000, jira_issues=20_000, history_days=365),
    "large": ScaleSpec(services=50, products=20, people=400, incidents=200_000,
                       changes=40_000, problems=8_000, jira_issues=100_000, history_days=400),
}


@dataclass(frozen=True)
class Person:
    """Someone known to both platforms (a ServiceNow user and a Jira account)."""

    user_name: str
    display_name: str
    email: str
    sn_sys_id: str
    jira_account_id: str
    time_zone: str
    # Someone who left the organisation: deactivated on both platforms since ``left_at``
    # (``sys_user.active=false``, a Jira account with ``active: false``).
    left_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the account is active (the person has not left)."""
        return self.left_at is None


@dataclass(frozen=True)
class Product:
    """A Jira project with its boards; ``issue_count`` issues numbered KEY-1..KEY-n."""

    key: str
    name: str
    service: str
    owner: Person
    scrum_board_id: int
    kanban_board_id: int | None
    issue_count: int


@dataclass(frozen=True)
class Service:
    """A ServiceNow business service (``cmdb_ci_service``) and the products it links to."""

    id: str
    name: str
    sys_id: str
    owner: Person
    manager: Person
    support_group: str
    support_group_sys_id: str
    products: tuple[str, ...]


@dataclass(frozen=True)
class World:
    """The organisation for one (seed, scale, now)."""

    seed: int
    scale: str
    spec: ScaleSpec
    now: datetime
    people: tuple[Person, ...]
    services: tuple[Service, ...]
    products: tuple[Product, ...]
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def history_start(self) -> datetime:
        """The earliest time any generated record may carry."""
        return self.now - timedelta(days=self.spec.history_days)

    def count(self, what: str) -> int:
        """Record count for ``what`` (``incidents``, ``changes``, …), overrides applied."""
        return self.extra.get(what, getattr(self.spec, what))

    def product(self, key: str) -> Product:
        """The product with Jira project key ``key``."""
        return next(p for p in self.products if p.key == key)

    def jira_key(self, product_key: str, number: int) -> str:
        """The Jira issue key of issue ``number`` (1-based) of a product."""
        return f"{product_key}-{number}"


def build_sys_id(*parts: object) -> str:
    """A stable 32-hex ServiceNow sys_id derived from ``parts``."""
    text = ":".join(str(p) for p in parts)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def build_change_description(rng: random.Random, service: Service,
                             products: dict[str, Product], kind: str) -> str:
    """A change description; 60 % of changes to a service with products quote Jira keys.

    The quoted keys name issues that exist in the Jira sandbox of the same world.
    """
    linked = [products[key] for key in service.products if key in products]
    if linked and rng.random() < 0.6:
        product = rng.choice(linked)
        keys = sorted({rng.randint(1, product.issue_count) for _ in range(rng.randint(1, 3))})
        quoted = ", ".join(f"{product.key}-{n}" for n in keys)
        return f"Deploys {quoted} to production for {service.name}."
    return f"Routine {kind} change on {service.name}."


def _people(rng: random.Random, seed: int, count: int) -> tuple[Person, ...]:
    people = []
    for i in range(count):
        first = _FIRST_NAMES[i % len(_FIRST_NAMES)]
        last = _LAST_NAMES[(i // len(_FIRST_NAMES) + i) % len(_LAST_NAMES)]
        user_name = f"{first}.{last}{'' if i < len(_FIRST_NAMES) else i}".lower()
        account = build_sys_id("jira-account", seed, i)[:24]
        people.append(Person(
            user_name=user_name,
            display_name=f"{first} {last}",
            email=f"{user_name}@example.org",
            sn_sys_id=build_sys_id("sys_user", seed, i),
            jira_account_id=account,
            time_zone=rng.choice(_TIME_ZONES),
        ))
    return tuple(people)


LEFT_DAYS_AGO = 60
_DEMO_LEAVER = 15  # people[15] owns the sixth service (i * 3 for service i = 5)


def _mark_leavers(people: tuple[Person, ...], leavers: tuple[str, ...] | None,
                  now: datetime) -> tuple[Person, ...]:
    if leavers is None:
        leavers = (people[_DEMO_LEAVER].user_name,) if len(people) > _DEMO_LEAVER else ()
    unknown = set(leavers) - {p.user_name for p in people}
    if unknown:
        raise ValueError(f"unknown leaver(s): {', '.join(sorted(unknown))}")
    left_at = (now - timedelta(days=LEFT_DAYS_AGO)).replace(hour=9, minute=30)
    return tuple(replace(p, left_at=left_at) if p.user_name in leavers else p for p in people)


def build_world(seed: int = 7, scale: str = "small", now: datetime | None = None,
                leavers: tuple[str, ...] | None = None, **counts: int) -> World:
    """Build the organisation for ``seed`` and ``scale``.

    Args:
        seed: drives every random choice; same seed, same organisation.
        scale: a key of :data:`SCALES`.
        now: the anchor of all generated times (aware); defaults to the current hour, UTC.
        leavers: user names of people who left :data:`LEFT_DAYS_AGO` days before ``now``
            (their accounts are inactive). None: the owner of the sixth service
            (``hr-self-service``), so the demo shows an ownerless service. Both sandboxes
            pass it through (``JiraSandbox(leavers=(...))``).
        **counts: overrides of :class:`ScaleSpec` counts, e.g. ``incidents=50_000``.

    Returns:
        The world both sandboxes generate their records from.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    spec = SCALES[scale]
    unknown = set(counts) - set(ScaleSpec.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown count override(s): {', '.join(sorted(unknown))}")
    if now is None:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    now = now.astimezone(UTC)
    rng = random.Random(seed)
    people = _people(rng, seed, counts.get("people", spec.people))
    # No rng draw here or below depends on it: leavers change no generated value.
    people = _mark_leavers(people, leavers, now)
    n_services = min(counts.get("services", spec.services), len(_CATALOGUE) * 3)
    n_products = min(counts.get("products", spec.products), n_services, len(_CATALOGUE))
    jira_total = counts.get("jira_issues", spec.jira_issues)

    products = []
    weights = [rng.uniform(0.6, 1.4) for _ in range(n_products)]
    for i in range(n_products):
        _, key, name = _CATALOGUE[i]
        share = weights[i] / sum(weights)
        issue_count = max(20, round(jira_total * share)) if i < n_products - 1 else 0
        products.append([key, name, i, issue_count])
    if products:
        products[-1][3] = max(20, jira_total - sum(p[3] for p in products[:-1]))

    services = []
    for i in range(n_services):
        base_name = _CATALOGUE[i % len(_CATALOGUE)][0]
        name = base_name if i < len(_CATALOGUE) else f"{base_name} {i // len(_CATALOGUE) + 1}"
        linked = tuple(p[0] for p in products if p[2] == i)
        services.append(Service(
            id=name.lower().replace(" ", "-"),
            name=name,
            sys_id=build_sys_id("cmdb_ci_service", seed, i),
            owner=people[(i * 3) % len(people)],
            manager=people[(i * 3 + 1) % len(people)],
            support_group=f"{name} L2",
            support_group_sys_id=build_sys_id("sys_user_group", seed, i),
            products=linked,
        ))

    built_products = tuple(
        Product(
            key=key, name=name, service=services[svc].id,
            owner=people[(svc * 3 + 2) % len(people)],
            scrum_board_id=10 + 2 * svc, kanban_board_id=11 + 2 * svc if svc % 2 else None,
            issue_count=count,
        )
        for key, name, svc, count in products
    )
    return World(seed=seed, scale=scale, spec=spec, now=now, people=people,
                 services=tuple(services), products=built_products, extra=dict(counts))
