"""Prometheus metrics of one run: a node_exporter textfile and/or a Pushgateway push.

Every value comes from :meth:`RunReport.summary` (the same numbers as the ``run_finished``
log line), rendered in the Prometheus text format by prometheus-client from a private
:class:`~prometheus_client.CollectorRegistry`. All metrics are gauges: they describe the last
run, not a count since process start (the process ends with the run).

Two facts shape the publishing:

- node_exporter's textfile collector reads ``*.prom`` files at any moment, so the file is
  written beside its final name and renamed over it (``rename(2)`` is atomic on one
  filesystem); a reader never sees half a file.
- A failed run must not erase when the job last succeeded. The textfile carries the previous
  ``fiveo_sync_last_success_timestamp_seconds`` over; the Pushgateway push uses POST, which
  replaces only the metric families sent, so a failed run simply does not send that family.

Publishing never fails the run: :func:`publish_metrics` logs ``metrics_publish_failed`` and
carries on.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import default_handler, pushadd_to_gateway
from prometheus_client.parser import text_string_to_metric_families

from fiveo_sync.redaction import redact_text, redact_url, register_secret
from fiveo_sync.report_model import WRITE_ACTIONS, RunReport

PREFIX = "fiveo_sync"
LAST_SUCCESS = f"{PREFIX}_last_success_timestamp_seconds"
PUSH_TIMEOUT_S = 10.0


def build_registry(report: RunReport, *, labels: Mapping[str, str] | None = None,
                   last_success: float | None = None) -> CollectorRegistry:
    """The metrics of ``report`` in a fresh registry.

    Args:
        report: the finished run.
        labels: constant labels added to every sample (e.g. ``{"shard": "0"}``).
        last_success: the previous success time to report when this run failed; ignored
            when the run succeeded (its own finish time is used).
    """
    summary = report.summary()
    const = dict(labels or {})
    names = tuple(const)
    registry = CollectorRegistry(auto_describe=True)

    def gauge(name: str, doc: str, *label_names: str) -> Gauge:
        return Gauge(f"{PREFIX}_{name}", doc, [*names, *label_names], registry=registry)

    def put(metric: Gauge, value: float, **label_values: str) -> None:
        all_labels = {**const, **label_values}
        (metric.labels(**all_labels) if all_labels else metric).set(value)

    finished = (report.finished_at or report.started_at).timestamp()
    put(gauge("last_run_timestamp_seconds", "When the last run finished (Unix time)."),
        finished)
    success = finished if summary["exit_code"] == 0 else last_success
    if success is not None:
        put(gauge("last_success_timestamp_seconds",
                  "When the last run that exited 0 finished (Unix time)."), success)
    put(gauge("run_duration_seconds", "Wall time of the last run."), summary["duration_s"])
    put(gauge("run_exit_code", "Exit code of the last run (0 ok, 3 partial, sysexits)."),
        summary["exit_code"])
    put(gauge("run_dry_run", "1 when the last run was a dry run (nothing written)."),
        1 if summary["dry_run"] else 0)

    pulled = gauge("records_pulled", "Records pulled by the last run.", "source", "stream")
    for key, count in summary["pulled"].items():
        put(pulled, count, **_source_stream(key))
    deleted = gauge("records_deleted", "Records deleted at the source, seen by the last run.",
                    "source", "stream")
    for key, count in summary["deleted"].items():
        put(deleted, count, **_source_stream(key))
    put(gauge("records_skipped", "Records the last run could not normalise and skipped."),
        summary["records_skipped"])
    put(gauge("indicators_computed", "Indicator results computed by the last run."),
        summary["indicators"])
    if "outputs" in summary:
        put(gauge("report_files_written", "Local report files (HTML, JSON) the last run wrote."),
            summary["outputs"])

    writes = gauge("writes", "Write operations of the last run by target and outcome.",
                   "target", "outcome")
    for target, counts in summary["writes_by_target"].items():
        for outcome in (*WRITE_ACTIONS, *sorted(set(counts) - set(WRITE_ACTIONS))):
            put(writes, counts.get(outcome, 0), target=target, outcome=outcome)

    requests = gauge("http_requests", "HTTP requests sent by the last run.", "source")
    for source, count in summary["requests"].items():
        put(requests, count, source=source)
    retries = gauge("http_retries", "HTTP retries (after 429, 5xx, timeouts) in the last run.",
                    "source")
    for source, count in summary["retries"].items():
        put(retries, count, source=source)

    errors = gauge("run_errors", "Sources (pull) and targets (push) that failed in the last "
                   "run.", "stage")
    put(errors, len(summary["failed_sources"]), stage="pull")
    put(errors, len(summary["failed_targets"]), stage="push")
    failed = gauge("run_failed", "1 for each source or target that failed in the last run.",
                   "stage", "name")
    for source in summary["failed_sources"]:
        put(failed, 1, stage="pull", name=source)
    for target in summary["failed_targets"]:
        put(failed, 1, stage="push", name=target)
    return registry


def build_text(report: RunReport, *, labels: Mapping[str, str] | None = None,
               last_success: float | None = None) -> str:
    """The Prometheus text exposition of ``report`` (see :func:`build_registry`)."""
    registry = build_registry(report, labels=labels, last_success=last_success)
    return generate_latest(registry).decode("utf-8")


def write_textfile(report: RunReport, path: str | Path, *,
                   labels: Mapping[str, str] | None = None) -> Path:
    """Write the metrics for node_exporter's textfile collector, atomically.

    The file is written to a hidden temporary name in the same folder (not ``*.prom``, so
    the collector never reads it), flushed to disk, made world-readable and renamed over
    ``path``. A failed run keeps the success timestamp found in the previous file.

    Args:
        report: the finished run.
        path: the ``.prom`` file, e.g. ``/var/lib/node_exporter/textfile/fiveo_sync.prom``.
        labels: constant labels for every sample.

    Returns:
        The path written.

    Raises:
        OSError: the folder is missing or not writable.
    """
    target = Path(path)
    text = build_text(report, labels=labels, last_success=read_last_success(target))
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                     dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; the collector usually runs as another user.
        os.chmod(temp_name, 0o644)  # noqa: S103 - metrics are not secret
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    return target


def read_last_success(path: Path) -> float | None:
    """The success timestamp recorded in an earlier textfile, if it has one."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        for family in text_string_to_metric_families(text):
            if family.name == LAST_SUCCESS and family.samples:
                return float(family.samples[0].value)
    except ValueError:
        return None  # a damaged file is replaced, not trusted
    return None


def push_to_gateway(report: RunReport, url: str, job: str, *,
                    grouping_key: Mapping[str, str] | None = None,
                    timeout_s: float = PUSH_TIMEOUT_S) -> None:
    """Push the metrics to a Prometheus Pushgateway (POST: replaces the families sent).

    Credentials may be given in the URL (``https://user:secret@push.example``); they are
    sent as HTTP Basic auth and never appear in logs or errors.

    Args:
        report: the finished run.
        url: the Pushgateway base URL.
        job: the ``job`` grouping label.
        grouping_key: further grouping labels (e.g. ``{"shard": "0"}`` for Indexed Jobs).
        timeout_s: the HTTP timeout.

    Raises:
        OSError: the gateway is unreachable or answered an error (``urllib`` errors are
            ``OSError`` subclasses).
    """
    base, handler = _gateway_and_handler(url)
    # A failed run omits last_success: POST then keeps the gateway's previous value.
    registry = build_registry(report, labels=None)
    pushadd_to_gateway(base, job=job, registry=registry, grouping_key=dict(grouping_key or {}),
                       timeout=timeout_s, handler=handler)


def publish_metrics(report: RunReport, metrics_settings: Any, log: Any, *,
                    shard: tuple[int, int] | None = None) -> list[str]:
    """Write and/or push the run's metrics as configured; never raise.

    Args:
        report: the finished run.
        metrics_settings: ``settings.metrics`` (``textfile``, ``pushgateway_url``, ``job``).
        log: a structlog logger.
        shard: ``(index, count)`` of a sharded run; adds a ``shard`` label (textfile) or
            grouping key (Pushgateway) so the shards do not overwrite each other.

    Returns:
        What was published: ``textfile`` and/or ``pushgateway``.
    """
    published: list[str] = []
    labels = {"shard": str(shard[0])} if shard else None
    if metrics_settings.textfile:
        try:
            path = write_textfile(report, metrics_settings.textfile, labels=labels)
        except Exception as exc:  # noqa: BLE001 - metrics must never fail the run
            log.warning("metrics_publish_failed", target="textfile",
                        path=str(metrics_settings.textfile), error=_describe(exc))
        else:
            published.append("textfile")
            log.info("metrics_written", target="textfile", path=str(path))
    if metrics_settings.pushgateway_url:
        url = redact_url(_without_userinfo(metrics_settings.pushgateway_url))
        try:
            push_to_gateway(report, metrics_settings.pushgateway_url, metrics_settings.job,
                            grouping_key=labels)
        except Exception as exc:  # noqa: BLE001 - metrics must never fail the run
            log.warning("metrics_publish_failed", target="pushgateway", url=url,
                        error=_describe(exc))
        else:
            published.append("pushgateway")
            log.info("metrics_pushed", target="pushgateway", url=url,
                     job=metrics_settings.job)
    return published


def _source_stream(key: str) -> dict[str, str]:
    """``servicenow.incident`` -> source and stream labels (a bare name is a source)."""
    source, _, stream = key.partition(".")
    return {"source": source, "stream": stream}


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _gateway_and_handler(url: str) -> tuple[str, Callable[..., Callable[[], None]]]:
    """The gateway URL without credentials and a handler adding Basic auth when given."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, default_handler
    username = unquote(parts.username)
    password = unquote(parts.password or "")
    register_secret(password)
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")

    def handler(url: str, method: str, timeout: float | None, headers: list[tuple[str, str]],
                data: bytes) -> Callable[[], None]:
        return default_handler(url, method, timeout,
                               [*headers, ("Authorization", f"Basic {token}")], data)

    return _without_userinfo(url), handler


def _describe(exc: Exception) -> str:
    """A one-line, secret-free description of a publishing failure."""
    return redact_text(f"{type(exc).__name__}: {exc}")
