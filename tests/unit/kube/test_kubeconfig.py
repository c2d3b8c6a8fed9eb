"""Kubeconfig resolution follows kubectl, and its errors name the file but never a credential."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from liqoshortcut.errors import PreconditionFailed, UsageError
from liqoshortcut.kube.kubeconfig import (
    KubeconfigEnvironment,
    kubeconfig_from_bytes,
    kubeconfig_paths,
    load_kubeconfig,
)

TOKEN = "s3cr3t-token-never-printed"


def kubeconfig(
    *contexts: str,
    server: str = "https://a.example:6443",
    current: str | None = None,
    user: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A kubeconfig whose every context uses a cluster and a user of the same name."""
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": c, "cluster": {"server": server}} for c in contexts],
        "users": [{"name": c, "user": user or {"token": TOKEN}} for c in contexts],
        "contexts": [{"name": c, "context": {"cluster": c, "user": c}} for c in contexts],
    }
    if current:
        document["current-context"] = current
    return document


def write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document))
    return path


def env(tmp_path: Path, kubeconfig_list: list[Path] | None = None) -> KubeconfigEnvironment:
    variables = (
        {}
        if kubeconfig_list is None
        else {"KUBECONFIG": os.pathsep.join(map(str, kubeconfig_list))}
    )
    return KubeconfigEnvironment(variables=variables, home=tmp_path / "home")


def test_explicit_kubeconfig_wins_over_the_kubeconfig_variable(tmp_path: Path) -> None:
    listed = write(tmp_path / "listed", kubeconfig("listed", current="listed"))
    explicit = write(tmp_path / "explicit", kubeconfig("explicit", current="explicit"))
    loaded = load_kubeconfig(explicit, env(tmp_path, [listed]))
    assert loaded.context_names() == ["explicit"]
    assert loaded.resolve().context == "explicit"


def test_without_flag_or_variable_the_home_kubeconfig_is_read(tmp_path: Path) -> None:
    write(tmp_path / "home" / ".kube" / "config", kubeconfig("home", current="home"))
    assert load_kubeconfig(None, env(tmp_path)).resolve().context == "home"


def test_an_empty_kubeconfig_variable_means_the_home_kubeconfig(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert kubeconfig_paths(None, KubeconfigEnvironment({"KUBECONFIG": ""}, home)) == [
        home / ".kube" / "config"
    ]


def test_missing_files_in_the_kubeconfig_list_are_skipped(tmp_path: Path) -> None:
    present = write(tmp_path / "present", kubeconfig("edge-a", current="edge-a"))
    loaded = load_kubeconfig(None, env(tmp_path, [tmp_path / "absent", present]))
    assert loaded.resolve().context == "edge-a"


def test_the_first_file_defining_a_name_wins(tmp_path: Path) -> None:
    first = write(tmp_path / "first", kubeconfig("edge-a", server="https://first:6443"))
    second = write(
        tmp_path / "second", kubeconfig("edge-a", "edge-b", server="https://second:6443")
    )
    loaded = load_kubeconfig(None, env(tmp_path, [first, second]))
    assert loaded.resolve("edge-a").server == "https://first:6443"
    assert loaded.resolve("edge-b").server == "https://second:6443"


def test_current_context_comes_from_the_first_file_that_sets_it(tmp_path: Path) -> None:
    unset = write(tmp_path / "unset", kubeconfig("central"))
    first = write(tmp_path / "first", kubeconfig("edge-a", current="edge-a"))
    second = write(tmp_path / "second", kubeconfig("edge-b", current="edge-b"))
    assert load_kubeconfig(None, env(tmp_path, [unset, first, second])).current_context == "edge-a"


def test_a_context_may_use_a_cluster_and_user_defined_in_another_file(tmp_path: Path) -> None:
    contexts = kubeconfig("edge-a")
    del contexts["clusters"], contexts["users"]
    credentials = kubeconfig("edge-a")
    del credentials["contexts"]
    files = [write(tmp_path / "contexts", contexts), write(tmp_path / "creds", credentials)]
    resolved = load_kubeconfig(None, env(tmp_path, files)).resolve("edge-a")
    assert resolved.config["users"] == [{"name": "edge-a", "user": {"token": TOKEN}}]


def test_relative_file_references_resolve_against_the_file_holding_them(tmp_path: Path) -> None:
    document = kubeconfig("edge-a", current="edge-a", user={"client-certificate": "certs/a.crt"})
    document["clusters"][0]["cluster"]["certificate-authority"] = "ca.crt"
    path = write(tmp_path / "dir" / "config", document)
    resolved = load_kubeconfig(path, env(tmp_path)).resolve()
    assert resolved.config["clusters"][0]["cluster"]["certificate-authority"] == str(
        tmp_path / "dir" / "ca.crt"
    )
    assert resolved.config["users"][0]["user"]["client-certificate"] == str(
        tmp_path / "dir" / "certs" / "a.crt"
    )


def test_the_resolved_context_holds_only_that_context(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig("central", "edge-a", current="central"))
    resolved = load_kubeconfig(path, env(tmp_path)).resolve("edge-a")
    assert [c["name"] for c in resolved.config["contexts"]] == ["edge-a"]
    assert resolved.config["current-context"] == "edge-a"
    assert TOKEN not in repr(resolved)


def test_an_unknown_context_is_a_usage_error_listing_the_available_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig("central", "edge-a"))
    with pytest.raises(
        UsageError, match=r"'edge-c' not found .*available contexts: central, edge-a"
    ):
        load_kubeconfig(path, env(tmp_path)).resolve("edge-c")


def test_no_context_and_no_current_context_asks_for_context(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig("central"))
    with pytest.raises(UsageError, match=r"no current context .* pass --context"):
        load_kubeconfig(path, env(tmp_path)).resolve()


def test_no_kubeconfig_at_all_is_a_usage_error_naming_the_file_looked_at(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"home/\.kube/config.*available contexts: none"):
        load_kubeconfig(None, env(tmp_path)).resolve()


def test_a_missing_explicit_kubeconfig_is_a_precondition_failure(tmp_path: Path) -> None:
    with pytest.raises(PreconditionFailed, match="absent does not exist: check --kubeconfig"):
        load_kubeconfig(tmp_path / "absent", env(tmp_path))


def test_a_directory_given_as_kubeconfig_is_called_a_directory_not_missing(tmp_path: Path) -> None:
    with pytest.raises(PreconditionFailed, match=r"is a directory, not a file: check --kubeconfig"):
        load_kubeconfig(tmp_path, env(tmp_path))


def test_an_explicit_kubeconfig_that_is_no_regular_file_is_read_as_kubectl_reads_it(
    tmp_path: Path,
) -> None:
    """/dev/null is an empty kubeconfig, not a missing one: no context is in it."""
    with pytest.raises(UsageError, match=r"/dev/null.*available contexts: none"):
        load_kubeconfig(Path("/dev/null"), env(tmp_path)).resolve("edge-a")


def test_malformed_yaml_names_the_file_and_line_but_not_the_content(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(f"users:\n- name: u\n  user: {{token: {TOKEN}\n")
    with pytest.raises(PreconditionFailed) as raised:
        load_kubeconfig(path, env(tmp_path))
    assert str(path) in str(raised.value)
    assert "not valid YAML at line" in str(raised.value)
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(["a", "list"], id="a list instead of a mapping"),
        pytest.param({"contexts": {"edge-a": {}}}, id="contexts as a mapping"),
        pytest.param({"users": [{"user": {"token": TOKEN}}]}, id="an entry without a name"),
        pytest.param({"clusters": [{"name": "c", "cluster": "text"}]}, id="a body that is text"),
    ],
)
def test_a_malformed_kubeconfig_is_named_in_the_error(tmp_path: Path, document: object) -> None:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(PreconditionFailed, match=f"kubeconfig {path} is malformed") as raised:
        load_kubeconfig(path, env(tmp_path))
    assert TOKEN not in str(raised.value)


def test_an_unreadable_kubeconfig_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "config", kubeconfig("central"))

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(
        PreconditionFailed, match=f"cannot read kubeconfig {path}: Permission denied"
    ):
        load_kubeconfig(path, env(tmp_path))


def test_a_context_naming_an_undefined_cluster_says_so(tmp_path: Path) -> None:
    document = kubeconfig("edge-a")
    document["clusters"] = []
    path = write(tmp_path / "config", document)
    with pytest.raises(PreconditionFailed, match="names cluster 'edge-a', which no kubeconfig"):
        load_kubeconfig(path, env(tmp_path)).resolve("edge-a")


@pytest.mark.parametrize("plugin", ["exec", "auth-provider"])
def test_plugins_are_refused_when_asked_with_a_clear_message(tmp_path: Path, plugin: str) -> None:
    path = write(tmp_path / "config", kubeconfig("edge-a", user={plugin: {"command": "get-token"}}))
    loaded = load_kubeconfig(path, env(tmp_path))
    assert loaded.resolve("edge-a").context == "edge-a"  # kubectl's behaviour by default
    with pytest.raises(PreconditionFailed, match=f"an {plugin} plugin, which is not run here"):
        loaded.resolve("edge-a", allow_plugins=False)


def test_a_kubeconfig_from_a_secret_resolves_like_a_file() -> None:
    content = yaml.safe_dump(kubeconfig("edge-a", current="edge-a")).encode()
    resolved = kubeconfig_from_bytes(content, "Secret shortcuts/edge-a").resolve()
    assert (resolved.context, resolved.origin) == ("edge-a", "Secret shortcuts/edge-a")


@pytest.mark.parametrize("field", ["tokenFile", "client-key"])
def test_a_kubeconfig_from_a_secret_may_not_refer_to_local_files(field: str) -> None:
    content = yaml.safe_dump(kubeconfig("edge-a", user={field: "/var/run/secrets/token"})).encode()
    with pytest.raises(PreconditionFailed, match=f"refers to a file \\({field}\\)"):
        kubeconfig_from_bytes(content, "Secret shortcuts/edge-a").resolve("edge-a")


def test_a_very_long_context_name_is_cut_in_the_message(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig("edge-a", current="edge-a"))
    long_name = "edge-" + "a" * 5000
    with pytest.raises(UsageError) as raised:
        load_kubeconfig(path, env(tmp_path)).resolve(long_name)
    message = str(raised.value)
    assert message.startswith("context 'edge-aaaa")
    assert "aaa...aaa" in message
    assert "aaa' not found in" in message
    assert message.endswith("(available contexts: edge-a)")
    assert len(message) < 200
