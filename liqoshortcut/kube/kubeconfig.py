"""Kubeconfig and context resolution, following kubectl's rules so users get no surprises.

Which files: ``--kubeconfig`` wins (and must exist); else every file of the ``KUBECONFIG`` list
(missing ones skipped); else ``~/.kube/config``. Merging the list: for clusters, users and contexts
the first file that defines a name wins, and ``current-context`` comes from the first file that sets
it. Relative file references are resolved against the file that holds them, as kubectl does.

The operator reads kubeconfigs from Secrets (`kubeconfig_from_bytes`). Such a kubeconfig must be
self-contained: a file reference in it would read the operator's own files (its service-account
token, for one), so it is refused; exec and auth-provider plugins can be refused too
(``allow_plugins=False``), because they run programs inside the operator's pod.

The process environment is passed in (`KubeconfigEnvironment`), never read from globals, so tests
are pure. No message ever quotes a kubeconfig's content: it holds credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from liqoshortcut.core.words import cut, shown
from liqoshortcut.errors import PreconditionFailed, UsageError

Entry = Mapping[str, Any]

_SECTIONS = {"clusters": "cluster", "users": "user", "contexts": "context"}
# The fields holding file names that kubectl resolves against the kubeconfig's directory
# (client-go's ResolveLocalPaths).
_FILE_FIELDS = {
    "clusters": ("certificate-authority",),
    "users": ("client-certificate", "client-key", "tokenFile"),
}
_PLUGINS = ("exec", "auth-provider")


@dataclass(frozen=True)
class KubeconfigEnvironment:
    """What kubectl reads from the process: the ``KUBECONFIG`` variable and the home directory."""

    variables: Mapping[str, str]
    home: Path

    @classmethod
    def from_process(cls) -> KubeconfigEnvironment:
        return cls(variables=dict(os.environ), home=Path.home())


@dataclass(frozen=True)
class ResolvedContext:
    """One context, ready for a client: a self-contained kubeconfig holding only that context."""

    context: str
    server: str
    namespace: str | None
    origin: str  # where it came from, for messages: a path, a list of paths, or a Secret
    config: Mapping[str, Any] = field(repr=False)  # holds credentials: never printed


@dataclass(frozen=True)
class _Named:
    """A named kubeconfig entry and the file it came from (None for content from a Secret)."""

    body: Entry
    source: Path | None


@dataclass(frozen=True)
class Kubeconfig:
    """A merged kubeconfig: named clusters, users and contexts, and the current context."""

    origin: str
    sections: Mapping[str, Mapping[str, _Named]]
    current_context: str | None
    self_contained: bool  # from a Secret: file references are refused

    def context_names(self) -> list[str]:
        return sorted(self.sections["contexts"])

    def resolve(self, context: str | None = None, *, allow_plugins: bool = True) -> ResolvedContext:
        """The named context (kubectl's ``--context``), else the current context."""
        available = ", ".join(map(cut, self.context_names())) or "none"
        name = context or self.current_context
        if not name:
            raise UsageError(
                f"no current context is set in {self.origin}: pass --context "
                f"(available contexts: {available})"
            )
        entry = self.sections["contexts"].get(name)
        if entry is None:
            raise UsageError(
                f"context {shown(name)} not found in {self.origin} (available contexts: "
                f"{available})"
            )
        cluster_name = _string(entry.body.get("cluster"), "cluster", name, entry.source)
        cluster = self._referenced("clusters", cluster_name, name, entry.source)
        server = cluster.body.get("server")
        if not isinstance(server, str) or not server:
            raise PreconditionFailed(
                f"cluster {shown(cluster_name)} in {_where(cluster.source, self.origin)} has no "
                "server address: fix that kubeconfig"
            )
        user_name = entry.body.get("user")
        user = self._referenced("users", user_name, name, entry.source) if user_name else None
        if user is not None:
            self._check_user(str(user_name), user, name, allow_plugins=allow_plugins)
        self._check_self_contained("clusters", cluster_name, cluster)
        namespace = entry.body.get("namespace")
        config: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": name,
            "clusters": [{"name": cluster_name, "cluster": dict(cluster.body)}],
            "contexts": [{"name": name, "context": dict(entry.body)}],
            "users": [{"name": user_name, "user": dict(user.body)}] if user else [],
        }
        return ResolvedContext(
            context=name,
            server=server.rstrip("/"),
            namespace=namespace if isinstance(namespace, str) and namespace else None,
            origin=_where(entry.source, self.origin),
            config=config,
        )

    def _referenced(self, section: str, name: object, context: str, source: Path | None) -> _Named:
        entry = self.sections[section].get(name) if isinstance(name, str) else None
        if entry is None:
            kind = _SECTIONS[section]
            raise PreconditionFailed(
                f"context {shown(context)} in {_where(source, self.origin)} names {kind} "
                f"{shown(str(name))}, "
                f"which no kubeconfig defines: fix the context or add the {kind}"
            )
        return entry

    def _check_user(self, name: str, user: _Named, context: str, *, allow_plugins: bool) -> None:
        plugin = next((key for key in _PLUGINS if key in user.body), None)
        if plugin is not None and not allow_plugins:
            raise PreconditionFailed(
                f"user {shown(name)} of context {shown(context)} in "
                f"{_where(user.source, self.origin)} "
                f"authenticates with an {plugin} plugin, which is not run here: use a kubeconfig "
                "with a token or a client certificate (liqoctl generate peering-user makes one)"
            )
        self._check_self_contained("users", name, user)

    def _check_self_contained(self, section: str, name: str, entry: _Named) -> None:
        if not self.self_contained:
            return
        for key in _FILE_FIELDS[section]:
            if key in entry.body:
                raise PreconditionFailed(
                    f"{_SECTIONS[section]} {shown(name)} in {self.origin} refers to a file "
                    f"({key}); "
                    f"a kubeconfig in a Secret must embed its data: use {_data_field(key)}"
                )


def kubeconfig_paths(explicit: Path | None, env: KubeconfigEnvironment) -> list[Path]:
    """The files kubectl would read, in precedence order (existence is checked by the loader)."""
    if explicit is not None:
        return [explicit]
    listed = env.variables.get("KUBECONFIG", "")
    paths: list[Path] = []
    for item in listed.split(os.pathsep):
        if item and Path(item) not in paths:
            paths.append(Path(item))
    return paths or [env.home / ".kube" / "config"]


def load_kubeconfig(
    explicit: Path | None = None,
    env: KubeconfigEnvironment | None = None,
    *,
    flag: str = "--kubeconfig",
) -> Kubeconfig:
    """The merged kubeconfig kubectl would use with the same ``--kubeconfig`` and environment;
    ``flag`` is the option that gave ``explicit``, for messages."""
    env = env or KubeconfigEnvironment.from_process()
    paths = kubeconfig_paths(explicit, env)
    if explicit is not None and not explicit.exists():
        raise PreconditionFailed(f"kubeconfig {explicit} does not exist: check {flag}")
    if explicit is not None and explicit.is_dir():
        raise PreconditionFailed(f"kubeconfig {explicit} is a directory, not a file: check {flag}")
    # An explicit one is read whatever it is (a pipe, /dev/stdin, /dev/null), as kubectl does.
    documents = [(path, _read(path)) for path in paths if explicit is not None or path.is_file()]
    origin = ", ".join(str(path) for path in paths)
    if len(paths) > 1:
        origin = f"the KUBECONFIG files {origin}"
    return _merge(origin, documents, self_contained=False)


def kubeconfig_from_bytes(content: bytes, origin: str) -> Kubeconfig:
    """A kubeconfig held in memory, e.g. a Secret's value; ``origin`` names it in messages."""
    return _merge(origin, [(None, _parse(content, origin))], self_contained=True)


def _read(path: Path) -> Mapping[str, Any]:
    try:
        content = path.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise PreconditionFailed(f"cannot read kubeconfig {path}: {reason}") from None
    return _parse(content, str(path))


def _parse(content: bytes, origin: str) -> Mapping[str, Any]:
    try:
        document = yaml.safe_load(content)
    except yaml.YAMLError as error:
        # yaml's own message quotes the offending line, which may hold a credential.
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PreconditionFailed(
            f"kubeconfig {origin} is not valid YAML{where}: fix or regenerate it"
        ) from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise PreconditionFailed(f"kubeconfig {origin} is malformed: it is not a mapping")
    return document


def _merge(
    origin: str,
    documents: Sequence[tuple[Path | None, Mapping[str, Any]]],
    *,
    self_contained: bool,
) -> Kubeconfig:
    sections: dict[str, dict[str, _Named]] = {section: {} for section in _SECTIONS}
    current: str | None = None
    for source, document in documents:
        name = source or origin
        for section, inner in _SECTIONS.items():
            for entry_name, body in _entries(document, section, inner, name):
                if entry_name not in sections[section]:
                    resolved = body if source is None else _resolve_files(section, body, source)
                    sections[section][entry_name] = _Named(resolved, source)
        value = document.get("current-context")
        if current is None and isinstance(value, str) and value:
            current = value
    return Kubeconfig(origin, sections, current, self_contained)


def _entries(
    document: Mapping[str, Any], section: str, inner: str, origin: Path | str
) -> list[tuple[str, Entry]]:
    items = document.get(section) or []
    malformed = PreconditionFailed(
        f"kubeconfig {origin} is malformed: {section} must be a list of entries, each with a "
        f"name and a {inner}: fix or regenerate it"
    )
    if not isinstance(items, list):
        raise malformed
    entries: list[tuple[str, Entry]] = []
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise malformed
        body = item.get(inner) or {}
        if not isinstance(body, Mapping):
            raise malformed
        entries.append((item["name"], body))
    return entries


def _resolve_files(section: str, body: Entry, source: Path) -> Entry:
    """Make relative file references absolute against the directory of the file holding them."""
    resolved = dict(body)
    base = source.parent.absolute()
    for key in _FILE_FIELDS.get(section, ()):
        value = resolved.get(key)
        if isinstance(value, str) and value and not os.path.isabs(value):
            resolved[key] = str(base / value)
    plugin = resolved.get("exec") if section == "users" else None
    command = plugin.get("command") if isinstance(plugin, Mapping) else None
    # client-go resolves an exec command only when it is a relative path, not a bare name
    # looked up on PATH.
    if isinstance(command, str) and os.sep in command and not os.path.isabs(command):
        resolved["exec"] = {**resolved["exec"], "command": str(base / command)}
    return resolved


def _string(value: object, what: str, context: str, source: Path | None) -> str:
    if not isinstance(value, str) or not value:
        raise PreconditionFailed(
            f"context {shown(context)} in {source or 'the kubeconfig'} names no {what}: fix that "
            "kubeconfig"
        )
    return value


def _where(source: Path | None, origin: str) -> str:
    return str(source) if source is not None else origin


def _data_field(key: str) -> str:
    return "token" if key == "tokenFile" else f"{key}-data"
