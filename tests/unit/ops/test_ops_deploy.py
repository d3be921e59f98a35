"""Static checks of deploy/: files parse, and every fiveo-sync invocation is one the CLI has."""

import contextlib
import io
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import get_args

import pytest
import yaml
from pydantic import BaseModel, SecretStr

from fiveo_sync.cli import build_parser
from fiveo_sync.settings import Settings, load_settings
from fiveo_sync.shard import parse_shard
from fiveo_sync.writers.servicenow import COLUMNS

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "kubernetes"
SYSTEMD = DEPLOY / "systemd"
DOCS = [*sorted(DEPLOY.rglob("*.md")), REPO / "docs" / "scheduling.md"]


# -- parsing helpers -------------------------------------------------------------------


def k8s_documents() -> list[tuple[Path, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                docs.append((path, doc))
    return docs


def by_kind(kind: str) -> list[tuple[Path, dict]]:
    return [(p, d) for p, d in k8s_documents() if d["kind"] == kind]


def pod_spec(doc: dict) -> dict:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def job_spec(doc: dict) -> dict:
    return doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A small systemd unit-file parser: sections of repeatable key=value entries."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}:{number}: entry outside a section"
        assert "=" in line, f"{path.name}:{number}: not key=value: {line!r}"
        key, value = line.split("=", 1)
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key.strip()), f"{path.name}:{number}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    joined, pending = [], ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.lstrip().startswith("#") and not pending:
            continue
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        if pending.strip():
            instruction, _, rest = pending.strip().partition(" ")
            joined.append((instruction.upper(), rest.strip()))
        pending = ""
    return joined


# -- every fiveo-sync invocation -------------------------------------------------------


def _is_entry(token: str) -> bool:
    return token == "fiveo-sync" or token.endswith("/bin/fiveo-sync")


_SHELL_STOP = {"&&", "||", "|", ";", "2>&1"}


def _argv_after_entry(tokens: list[str]) -> list[list[str]]:
    found = []
    for i, token in enumerate(tokens):
        starts_command = i == 0 or tokens[i - 1] in _SHELL_STOP or token.endswith("/fiveo-sync")
        if _is_entry(token) and starts_command:
            argv = []
            for arg in tokens[i + 1:]:
                if arg in _SHELL_STOP or arg.startswith((">", "<", "#")):
                    break
                argv.append(arg)
            found.append(argv)
    return found


def invocations() -> list[tuple[str, list[str]]]:
    """(where, argv after the program name) for every fiveo-sync call in deploy/ and docs."""
    found: list[tuple[str, list[str]]] = []
    instructions = dict(dockerfile_instructions(DEPLOY / "container" / "Dockerfile"))
    entry = json.loads(instructions["ENTRYPOINT"])
    assert entry == ["fiveo-sync"]
    found.append(("Dockerfile CMD", json.loads(instructions["CMD"])))
    for path, doc in k8s_documents():
        if doc["kind"] not in ("CronJob", "Job"):
            continue
        for container in pod_spec(doc)["containers"]:
            command = container.get("command")
            if command:
                assert _is_entry(command[0]), f"{path.name}: {command}"
                argv = [*command[1:], *container.get("args", [])]
            else:  # the image's ENTRYPOINT is fiveo-sync
                argv = list(container.get("args", []))
            found.append((f"{path.name}:{doc['metadata']['name']}", argv))
    unit = parse_unit(SYSTEMD / "fiveo-sync.service")
    for line in unit["Service"]["ExecStart"]:
        found += [("fiveo-sync.service", a) for a in _argv_after_entry(shlex.split(line))]
    for line in (DEPLOY / "cron" / "fiveo-sync.cron").read_text().splitlines():
        if line.strip() and not line.startswith("#") and not re.match(r"^\w+=", line):
            found += [("fiveo-sync.cron", a) for a in _argv_after_entry(shlex.split(line))]
    for path in DOCS:
        for text in _code_in_markdown(path.read_text(encoding="utf-8")):
            for line in text.replace("\\\n", " ").splitlines():
                try:
                    tokens = shlex.split(line, comments=True)
                except ValueError:
                    continue
                found += [(path.name, a) for a in _argv_after_entry(tokens)]
    return found


def _code_in_markdown(text: str) -> list[str]:
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    inline = [m for m in re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
              if m.startswith("fiveo-sync ")]
    return blocks + inline


def _substitute(argv: list[str]) -> list[str]:
    # Kubernetes expands $(VAR) from the pod's environment; any index stands in here.
    return [re.sub(r"\$\(\w+\)", "0", arg) for arg in argv]


def parse_cli(argv: list[str]):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            return build_parser().parse_args(argv), ""
        except SystemExit:
            return None, stderr.getvalue()


def test_deploy_files_call_only_commands_and_options_the_cli_has():
    found = invocations()
    where = {w.split(":")[0] for w, _ in found}
    assert {"Dockerfile CMD", "cronjob.yaml", "cronjob-sharded.yaml", "job-doctor.yaml",
            "fiveo-sync.service", "fiveo-sync.cron", "scheduling.md"} <= where
    for place, argv in found:
        args, error = parse_cli(_substitute(argv))
        assert args is not None, f"{place}: fiveo-sync {' '.join(argv)}\n{error}"
        if getattr(args, "shard", None):
            parse_shard(args.shard)


def test_the_checker_rejects_an_unknown_option_and_command():
    assert parse_cli(["run", "--no-such-option"])[0] is None
    assert parse_cli(["frobnicate"])[0] is None
    assert parse_cli(["run", "--shard", "0/4"])[0] is not None


def test_the_extractor_reads_shell_lines_like_a_shell():
    line = ("*/15 * * * * fiveo cd /x && flock -n /x/l /opt/fiveo-sync/bin/fiveo-sync "
            "--log-format json run >>/var/log/f.log 2>&1")
    assert _argv_after_entry(shlex.split(line)) == [["--log-format", "json", "run"]]
    assert _argv_after_entry(shlex.split("kubectl -n fiveo-sync create secret")) == []


# -- Kubernetes ------------------------------------------------------------------------


def test_every_kubernetes_document_parses_and_is_named():
    docs = k8s_documents()
    assert len(docs) >= 8
    for path, doc in docs:
        assert doc.get("apiVersion") and doc.get("kind"), path.name
        if doc["kind"] == "Kustomization":
            continue
        assert doc["metadata"].get("name"), path.name
        if doc["kind"] not in ("Kustomization", "Namespace"):
            assert doc["metadata"].get("namespace") == "fiveo-sync", path.name


def test_kustomization_lists_existing_files():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource
    assert "secret.example.yaml" not in kustomization["resources"]


@pytest.mark.parametrize("name", ["fiveo-sync", "fiveo-sync-sharded"])
def test_cronjob_schedules_safely(name):
    (_, cron), = [(p, d) for p, d in by_kind("CronJob") if d["metadata"]["name"] == name]
    spec = cron["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] > 0
    job = job_spec(cron)
    assert job["backoffLimit"] >= 1 and job["activeDeadlineSeconds"] > 0
    pod = pod_spec(cron)
    assert pod["restartPolicy"] == "Never"  # required by podFailurePolicy
    container = pod["containers"][0]
    rules = job["podFailurePolicy"]["rules"]
    actions = {tuple(r["onExitCodes"]["values"]): r["action"] for r in rules if "onExitCodes" in r}
    assert actions[(77, 78)] == "FailJob"
    assert actions[(69,)] == "Count"
    assert rules.index(next(r for r in rules if r["action"] == "FailJob")) == 0
    for rule in rules:
        if "onExitCodes" in rule:
            assert rule["onExitCodes"]["containerName"] == container["name"]
            assert rule["onExitCodes"]["operator"] == "In"


@pytest.mark.parametrize("path, name", [(p, d["metadata"]["name"])
                                        for p, d in k8s_documents()
                                        if d["kind"] in ("CronJob", "Job")])
def test_pods_are_unprivileged_read_only_and_get_secrets_as_files(path, name):
    (doc,) = [d for p, d in k8s_documents() if p == path and d["metadata"]["name"] == name]
    pod = pod_spec(doc)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    secret_volume = next(n for n, v in volumes.items() if "secret" in v)
    assert volumes[secret_volume]["secret"]["secretName"] == "fiveo-sync-credentials"
    assert env["FIVEO_SECRETS_DIR"] == mounts[secret_volume]["mountPath"]
    assert mounts[secret_volume]["readOnly"] is True
    # the settings file named by FIVEO_CONFIG is projected from the settings ConfigMap
    config = mounts["config"]["mountPath"]
    items = [item for source in volumes["config"]["projected"]["sources"]
             for item in source["configMap"]["items"]]
    assert env["FIVEO_CONFIG"] in {f"{config}/{item['path']}" for item in items}
    # every writable path is a volume: the root filesystem stays read-only
    assert env["TMPDIR"] in {m["mountPath"] for m in mounts.values()}
    for item in items:
        assert "/" not in item["key"]
    assert not any(n.startswith("FIVEO_") and n not in ("FIVEO_CONFIG", "FIVEO_SECRETS_DIR")
                   and n.split("__")[0][6:].lower() not in Settings.model_fields for n in env)


def test_projected_mapping_files_are_the_repository_mapping_files():
    (cron,) = [d for _, d in by_kind("CronJob") if d["metadata"]["name"] == "fiveo-sync"]
    volumes = {v["name"]: v for v in pod_spec(cron)["volumes"]}
    paths = {item["path"] for source in volumes["config"]["projected"]["sources"]
             for item in source["configMap"]["items"] if item["path"].startswith("mappings/")}
    repo = {str(p.relative_to(REPO)) for p in (REPO / "mappings").rglob("*.yaml")}
    assert paths == repo


def test_indexed_variant_shards_by_completion_index_with_separate_state():
    (cron,) = [d for _, d in by_kind("CronJob") if d["metadata"]["name"] == "fiveo-sync-sharded"]
    job = job_spec(cron)
    assert job["completionMode"] == "Indexed"
    (container,) = pod_spec(cron)["containers"]
    args = container["args"]
    shard = args[args.index("--shard") + 1]
    index, count = shard.split("/")
    assert index == "$(JOB_COMPLETION_INDEX)"
    assert int(count) == job["completions"] == job["parallelism"]
    assert job["backoffLimitPerIndex"] >= 1
    claim = pod_spec(cron)["volumes"][0]["persistentVolumeClaim"]["claimName"]
    (pvc,) = [d for _, d in by_kind("PersistentVolumeClaim") if d["metadata"]["name"] == claim]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    env = {e["name"]: e for e in container["env"]}
    assert "$(SHARD_INDEX)" in env["FIVEO_REPORT__DIR"]["value"]
    assert "job-completion-index" in env["SHARD_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"]


def test_settings_configmap_is_valid_settings_without_secrets(tmp_path):
    (configmap,) = [d for _, d in by_kind("ConfigMap")
                    if d["metadata"]["name"] == "fiveo-sync-settings"]
    text = configmap["data"]["fiveo-sync.yaml"]
    path = tmp_path / "fiveo-sync.yaml"
    path.write_text(text)
    settings = load_settings(path)
    assert settings.servicenow.password is None and settings.jira.api_token is None
    assert str(settings.state.path).startswith("/var/lib/fiveo-sync/")
    assert str(settings.mappings.dir) == "/etc/fiveo-sync/mappings"
    for word in ("password", "api_token", "pat:", "client_secret"):
        assert word not in text


def _is_secret_setting(name: str) -> bool:
    model: type[BaseModel] = Settings
    parts = name.split("__")
    for part in parts[:-1]:
        annotation = model.model_fields[part].annotation
        model = next(a for a in (*get_args(annotation), annotation)
                     if isinstance(a, type) and issubclass(a, BaseModel))
    annotation = model.model_fields[parts[-1]].annotation
    return SecretStr in (*get_args(annotation), annotation)


def test_secret_file_names_are_secret_settings():
    (secret,) = [d for _, d in by_kind("Secret")]
    names = list(secret["stringData"])
    unit = parse_unit(SYSTEMD / "fiveo-sync.service")
    names += [c.split(":", 1)[0] for c in unit["Service"]["LoadCredential"]]
    assert names
    for name in names:
        assert _is_secret_setting(name), name


# -- systemd and cron ------------------------------------------------------------------


def test_systemd_service_is_hardened_and_reads_credentials_from_systemd():
    unit = parse_unit(SYSTEMD / "fiveo-sync.service")
    service = unit["Service"]
    assert service["Type"] == ["oneshot"]
    assert service["ExecStart"][0].startswith("/")
    environment = dict(e.split("=", 1) for e in service["Environment"])
    assert environment["FIVEO_SECRETS_DIR"] == "%d"
    assert environment["FIVEO_CONFIG"].endswith(".yaml")
    for credential in service["LoadCredential"]:
        name, source = credential.split(":", 1)
        assert source.startswith("/etc/fiveo-sync/credentials/") and source.endswith(name)
    for key, value in {"ProtectSystem": "strict", "NoNewPrivileges": "yes",
                       "PrivateTmp": "yes", "ProtectHome": "yes", "DynamicUser": "yes",
                       "RestrictSUIDSGID": "yes", "LockPersonality": "yes"}.items():
        assert service[key] == [value], key
    assert service["CapabilityBoundingSet"] == [""]
    assert service["StateDirectory"] == ["fiveo-sync"]
    assert "After" in unit["Unit"] and "network-online.target" in unit["Unit"]["After"][0]


def test_systemd_timer_spreads_and_targets_the_service():
    timer = parse_unit(SYSTEMD / "fiveo-sync.timer")
    assert timer["Timer"]["RandomizedDelaySec"]
    assert timer["Timer"]["OnCalendar"]
    assert timer["Timer"]["Persistent"] == ["true"]
    (unit,) = timer["Timer"]["Unit"]
    assert (SYSTEMD / unit).is_file()
    assert timer["Install"]["WantedBy"] == ["timers.target"]


def test_cron_line_uses_flock_nonblocking():
    lines = [line for line in (DEPLOY / "cron" / "fiveo-sync.cron").read_text().splitlines()
             if line.strip() and not line.startswith("#") and not re.match(r"^\w+=", line)]
    (line,) = lines
    fields = line.split(None, 6)
    assert len(fields) == 7  # five time fields, the user, the command (/etc/cron.d format)
    tokens = shlex.split(fields[6])
    flock = tokens.index("flock")
    assert tokens[flock + 1] == "-n"
    assert _is_entry(tokens[flock + 3])


# -- container -------------------------------------------------------------------------


def test_dockerfile_is_slim_non_root_read_only_friendly_and_labelled():
    instructions = dockerfile_instructions(DEPLOY / "container" / "Dockerfile")
    kinds = [i for i, _ in instructions]
    froms = [rest for i, rest in instructions if i == "FROM"]
    assert all("-slim" in f for f in froms)
    final = len(kinds) - 1 - kinds[::-1].index("FROM")
    runtime = instructions[final:]
    values = {}
    for instruction, rest in runtime:
        values.setdefault(instruction, []).append(rest)
    user = values["USER"][-1].split(":")[0]
    assert user.isdigit() and int(user) > 0
    (volume,) = json.loads(values["VOLUME"][0])
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(values["ENV"])))
    assert env["HOME"].startswith(volume) and env["TMPDIR"].startswith(volume)
    assert values["WORKDIR"][-1] == volume
    labels = " ".join(values["LABEL"])
    for label in ("title", "description", "version", "revision", "licenses"):
        assert f"org.opencontainers.image.{label}=" in labels
    assert json.loads(values["CMD"][0]) == ["run"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert json.loads(values["ENTRYPOINT"][0])[0] in scripts


def test_dockerfile_copies_only_what_exists_and_the_ignore_file_lets_it_through():
    instructions = dockerfile_instructions(DEPLOY / "container" / "Dockerfile")
    ignore = (DEPLOY / "container" / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore
    for instruction, rest in instructions:
        if instruction != "COPY" or rest.startswith("--from"):
            continue
        *sources, _target = rest.split()
        for source in sources:
            assert (REPO / source).exists(), source
            assert source.rstrip("/") in allowed, source


def test_no_python_in_deploy():
    assert not list(DEPLOY.rglob("*.py"))


# -- ServiceNow table definition -------------------------------------------------------


def test_table_definition_lists_exactly_the_columns_the_writer_sends():
    import csv

    with (DEPLOY / "servicenow" / "u_fiveo_indicator.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["column"] for r in rows] == list(COLUMNS)
    for row in rows:
        assert row["type"] in ("String", "Decimal", "Integer", "Date/Time"), row
        if row["type"] == "String":
            assert int(row["max_length"]) >= 20
    key = next(r for r in rows if r["column"] == "u_key")
    assert int(key["max_length"]) == 255 and "coalesce" in key["notes"]
    readme = (DEPLOY / "servicenow" / "README.md").read_text(encoding="utf-8")
    for column in COLUMNS:
        assert f"`{column}`" in readme, column
