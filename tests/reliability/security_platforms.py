"""Helpers of the bad-input and security tests: both sandboxes, settings, hostile mappings."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.demo import DemoOptions, build_demo_settings
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.engine.normalise import normalise
from fiveo_sync.settings import MappingsSettings, Settings
from fiveo_sync.state import StateStore

SHIPPED_MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
WORLD_NOW = datetime(2025, 4, 3, 0, 0, tzinfo=UTC)
SEED = 7  # the organisation mappings/portfolio.yaml describes

# A name that is markup in every output at once: HTML, Jira wiki markup, ADF/JSON text.
HOSTILE_SERVICE = "<script>alert(1)</script>"
HOSTILE_PRODUCT = ("<img src=x onerror=alert(2)> |*_{x}[link|http://e]* "
                   "{code}h1. x{code} \\\\ \u202eRTL\u202c \U0001F600 \x07bell\x1b[31m")
# An indicator name travels into every written record (ServiceNow u_name, Jira table rows);
# a service indicator (operate.mttr) and a product one (operate.throughput) both carry it.
HOSTILE_INDICATOR = ("Probe <b onmouseover=alert(3)>x</b> |*_{x}[link|http://e]* "
                     "\u202e\U0001F600 &amp; \"q\" 'a'")
RENAMED = ("    name: Time to resolve, median (MTTR)\n", "    name: Items completed\n")


@dataclass
class Platforms:
    """Two running sandboxes and the settings of a run against them."""

    sn: ServiceNowSandbox
    jira: JiraSandbox
    settings: Settings

    def clock(self) -> datetime:
        """The sandboxes' clock (runs use it as now)."""
        return self.sn.clock()


def start_platforms(tmp_path: Path, *, deployment: str = "cloud", write_mode: str = "table",
                    mappings_dir: Path | None = None) -> Iterator[Platforms]:
    """Both sandboxes for one organisation; settings write under ``tmp_path / "out"``."""
    # HTTPS from the shared sandbox CA; build_demo_settings trusts it, verify on.
    with ServiceNowSandbox(seed=SEED, scale="small", now=WORLD_NOW, tls=True) as sn, \
            JiraSandbox(seed=SEED, scale="small", now=WORLD_NOW, deployment=deployment,
                        tls=True) as jira:
        settings = build_demo_settings(sn, jira, DemoOptions(
            out_dir=tmp_path / "out", deployment=deployment, write_mode=write_mode))
        if mappings_dir is not None:
            settings = settings.model_copy(
                update={"mappings": MappingsSettings(dir=mappings_dir)})
        yield Platforms(sn, jira, settings)


def hostile_mappings(tmp_path: Path, service_id: str = "payments",
                     product_id: str = "payments-web") -> Path:
    """A copy of the shipped mappings with hostile names (ids unchanged).

    The service and product of the portfolio and the indicators ``operate.mttr`` and
    ``operate.throughput`` are renamed.
    """
    folder = tmp_path / "mappings"
    shutil.copytree(SHIPPED_MAPPINGS, folder)
    portfolio = folder / "portfolio.yaml"
    text = portfolio.read_text(encoding="utf-8")
    service_line = f"  - id: {service_id}\n"
    product_line = f"  - id: {product_id}\n"
    assert service_line in text and product_line in text
    text = text.replace(service_line,
                        service_line + f"    name: {_yaml_quoted(HOSTILE_SERVICE)}\n", 1)
    start = text.index(product_line)
    end = text.index("\n", text.index("    name: ", start))
    text = text[:start] + product_line + f"    name: {_yaml_quoted(HOSTILE_PRODUCT)}" + \
        text[end:]
    portfolio.write_text(text, encoding="utf-8")
    operate = folder / "indicators" / "operate.yaml"
    indicators = operate.read_text(encoding="utf-8")
    for line in RENAMED:
        assert line in indicators
        indicators = indicators.replace(
            line, f"    name: {_yaml_quoted(HOSTILE_INDICATOR)}\n", 1)
    operate.write_text(indicators, encoding="utf-8")
    return folder


def _yaml_quoted(text: str) -> str:
    # A double-quoted YAML scalar with every non-printable character escaped.
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def canonical_data(settings: Settings) -> Any:
    """The canonical records the run's state store normalises to (what compute sees)."""
    mappings = load_mappings(settings.mappings.dir)
    with StateStore(settings.state.path) as store:
        raw = {(source, stream): [r.payload for r in store.iter_records(source, stream)]
               for source, stream in store.streams()}
    return normalise(mappings.sources, mappings.portfolio, raw)
