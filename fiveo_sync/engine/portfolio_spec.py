"""The portfolio file (``mappings/portfolio.yaml``): services, products, owners.

A *service* is a ServiceNow business service (``cmdb_ci_service``), named by its name or
its sys_id; a *product* is one or more Jira projects, optionally narrowed to boards. The
portfolio links services to the products that deliver them (``indicators.md`` §2.3).
Either may override the catalogue's target of an indicator for itself (``targets:``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from fiveo_sync.engine.measures import Target

Identifier = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64,
          description="lower-case id: letters, digits, '-' and '_'"),
]
ProjectKey = Annotated[
    str, Field(pattern=r"^[A-Z][A-Z0-9_]+$", description="a Jira project key, e.g. PAY"),
]


class StrictSpec(BaseModel):
    """Base of every mapping model: unknown keys are errors, parsed specs are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceSpec(StrictSpec):
    """One business service and what belongs to it."""

    id: Identifier = Field(description="portfolio id, used in result keys")
    business_service: str = Field(
        min_length=1, description="cmdb_ci_service name or sys_id (32 hex characters)")
    name: str | None = Field(default=None, description="display name (default: the CMDB name)")
    owner: str | None = Field(
        default=None, description="ServiceNow user_name (default: cmdb_ci_service.owned_by)")
    support_groups: tuple[str, ...] = Field(
        default=(), description="assignment group names (organise.service_attribution)")
    products: tuple[Identifier, ...] = Field(
        default=(), description="ids of the products linked to this service")
    targets: dict[str, Target] = Field(
        default_factory=dict, description="this service's own targets by indicator id "
        "(service and combined views), e.g. operate.availability: {kind: min, value: 99.95}")


class ProductSpec(StrictSpec):
    """One product: Jira projects (and optionally boards) with an owner."""

    id: Identifier = Field(description="portfolio id, used in result keys")
    name: str | None = Field(default=None, description="display name")
    jira_projects: tuple[ProjectKey, ...] = Field(default=(), description="Jira project keys")
    boards: tuple[int, ...] = Field(default=(), description="Jira Agile board ids")
    owner: str | None = Field(
        default=None, description="Jira accountId (Data Center: user name)")
    targets: dict[str, Target] = Field(
        default_factory=dict, description="this product's own targets by indicator id "
        "(product view)")


class GovernanceSpec(StrictSpec):
    """Who steps in where an element has lost its active owner (``docs/ownership.md``)."""

    fallback_owner: str | None = Field(
        default=None, min_length=1,
        description="acting owner of a service or product whose owner is missing, inactive "
                    "or not found (a ServiceNow user_name or a Jira accountId)")
    jira_fallback_owner: str | None = Field(
        default=None, min_length=1,
        description="acting owner of a flagged product, where fallback_owner is a ServiceNow "
                    "user_name: a Jira accountId (Data Center: user name), so the product's "
                    "Jira improvement items can be assigned; default: fallback_owner")
    improvement_manager: str | None = Field(
        default=None, min_length=1,
        description="the continual improvement manager who reads the governance page")


class PortfolioSpec(StrictSpec):
    """The whole ``kind: portfolio`` file."""

    version: Literal[1]
    kind: Literal["portfolio"]
    services: tuple[ServiceSpec, ...] = ()
    products: tuple[ProductSpec, ...] = ()
    governance: GovernanceSpec = Field(
        default_factory=GovernanceSpec, description="fallback owner, improvement manager")

    def service(self, service_id: str) -> ServiceSpec | None:
        """The service with ``service_id``, if any."""
        return next((s for s in self.services if s.id == service_id), None)

    def product(self, product_id: str) -> ProductSpec | None:
        """The product with ``product_id``, if any."""
        return next((p for p in self.products if p.id == product_id), None)

    @property
    def jira_projects(self) -> frozenset[str]:
        """Every Jira project key named by a product (filters ``jira_keys``, §2.4)."""
        return frozenset(k for p in self.products for k in p.jira_projects)

    def product_of_project(self, project_key: str) -> ProductSpec | None:
        """The product listing ``project_key``, if any."""
        return next((p for p in self.products if project_key in p.jira_projects), None)

    def services_of_product(self, product_id: str) -> tuple[ServiceSpec, ...]:
        """The services linked to ``product_id``."""
        return tuple(s for s in self.services if product_id in s.products)
