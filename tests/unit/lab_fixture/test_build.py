"""The lab's binaries are built once per version and a user's KUBEBUILDER_ASSETS win."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from lab import build
from lab.topology import ETCD_VERSION, KUBERNETES_VERSION, LIQO_VERSION


def fake_binaries(directory: Path, names: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_text("#!/bin/true\n")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LIQO_SHORTCUT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    return tmp_path / "cache"


def test_a_second_run_finds_the_cached_binaries_and_builds_nothing(
    cache: Path, mocker: MockerFixture
) -> None:
    built = cache / f"kube-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}"
    fake_binaries(built, list(build.KUBE_PACKAGES))
    go = mocker.patch.object(build, "_go")
    assert build.kube_binaries() == {name: built / name for name in build.KUBE_PACKAGES}
    go.assert_not_called()


def test_a_missing_binary_builds_every_kube_binary_with_go_into_the_versioned_cache(
    cache: Path, mocker: MockerFixture
) -> None:
    go = mocker.patch.object(build, "_go", return_value="")
    binaries = build.kube_binaries()
    built_packages = [call.args[0][-1] for call in go.call_args_list]
    assert built_packages == list(build.KUBE_PACKAGES.values())
    assert {path.parent.name for path in binaries.values()} == {
        f"kube-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}"
    }


def test_kubebuilder_assets_win_and_only_what_they_lack_is_built(
    cache: Path, tmp_path: Path, mocker: MockerFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    assets = tmp_path / "assets"
    fake_binaries(
        assets, ["etcd", "kube-apiserver", "kubectl"]
    )  # envtest ships no controller-manager
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(assets))
    fake_binaries(
        cache / f"kube-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}", ["kube-controller-manager"]
    )
    go = mocker.patch.object(build, "_go")
    binaries = build.kube_binaries()
    assert binaries["kube-apiserver"] == assets / "kube-apiserver"
    assert binaries["kube-controller-manager"].parent.parent == cache
    go.assert_not_called()


def test_kubernetes_binaries_report_the_pinned_version_not_v0_0_0_master() -> None:
    flags = build._kube_version_ldflags()
    assert f"k8s.io/component-base/version.gitVersion={KUBERNETES_VERSION}" in flags
    assert "k8s.io/component-base/version.gitMinor=35" in flags


def test_helm_is_built_once_from_the_version_its_tools_module_pins(
    cache: Path, mocker: MockerFixture
) -> None:
    go_mod = (build.TOOLS / "helm" / "go.mod").read_text()
    assert f"{build.HELM_MODULE} {build.HELM_VERSION}" in go_mod
    go = mocker.patch.object(build, "_go", return_value="")
    assert build.helm_binary() == cache / f"helm-{build.HELM_VERSION}" / "helm"
    assert [call.args[0][-1] for call in go.call_args_list] == [f"{build.HELM_MODULE}/cmd/helm"]


def test_helm_reports_its_version_and_renders_for_the_labs_kubernetes() -> None:
    flags = build._helm_ldflags()
    assert f"internal/version.version={build.HELM_VERSION}" in flags
    assert "pkg/chartutil.k8sVersionMinor=35" in flags


def test_liqo_s_controllers_are_built_once_from_the_tools_module_that_pins_liqoctl(
    cache: Path, mocker: MockerFixture
) -> None:
    go_mod = (build.TOOLS / "liqo" / "go.mod").read_text()
    for package in build.LIQO_RUNTIME_PACKAGES.values():
        assert f"\t{package}\n" in go_mod  # a `tool` line: go.sum holds its dependencies
    go = mocker.patch.object(build, "_go", return_value="")
    built = build.liqo_runtime_binaries()
    assert [call.args[0][-1] for call in go.call_args_list] == list(
        build.LIQO_RUNTIME_PACKAGES.values()
    )
    fake_binaries(cache / f"liqo-runtime-{LIQO_VERSION}", list(build.LIQO_RUNTIME_PACKAGES))
    go.reset_mock()
    assert build.liqo_runtime_binaries() == built
    go.assert_not_called()
