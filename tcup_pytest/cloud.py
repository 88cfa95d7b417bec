"""Things tests do to a cloud that outlive one call: cleanup of what they created.

``ResourceCleanup`` is plain Python (a script can use it as a context manager); the
``resource_cleanup`` fixture is a thin layer over it::

    >>> with ResourceCleanup() as cleanup:                               # doctest: +SKIP
    ...     project = conn.identity.create_project(name="x")
    ...     cleanup.add(f"project {project.name}", conn.identity.delete_project, project)
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tcup_pytest.redaction import REDACTOR

if TYPE_CHECKING:
    from tcup_pytest.config import CloudConfig


@dataclass(frozen=True)
class Leftover:
    """A resource whose deleter failed: reported by name at the end of the run."""

    name: str
    error: str


class ResourceCleanup:
    """Deleters registered as resources are created; run in reverse order, exactly once."""

    def __init__(self) -> None:
        self._deleters: list[tuple[str, Callable[[], Any]]] = []
        self.leftovers: list[Leftover] = []

    def add(self, name: str, deleter: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Register ``deleter(*args, **kwargs)`` to delete the resource called ``name``."""
        self._deleters.append((name, lambda: deleter(*args, **kwargs)))

    __call__ = add

    @property
    def pending(self) -> list[str]:
        return [name for name, _ in self._deleters]

    def run(self) -> list[Leftover]:
        """Delete everything registered, newest first; "already gone" counts as deleted."""
        leftovers = []
        with _sigint_deferred():
            while self._deleters:
                name, deleter = self._deleters.pop()
                try:
                    deleter()
                except Exception as exc:
                    if not is_not_found(exc):
                        leftovers.append(Leftover(name, REDACTOR.redact(f"{type(exc).__name__}: "
                                                                        f"{exc}")))
        self.leftovers.extend(leftovers)
        return leftovers

    def __enter__(self) -> ResourceCleanup:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.run()


def is_not_found(exc: BaseException) -> bool:
    """True for openstacksdk's and keystoneauth's 404s: the resource is already gone."""
    from keystoneauth1.exceptions import NotFound as KsaNotFound
    from openstack.exceptions import NotFoundException

    return isinstance(exc, (NotFoundException, KsaNotFound))


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Let cleanup finish when Ctrl-C arrives during it; re-raise the interrupt afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


@contextlib.contextmanager
def temporary_member(cfg: CloudConfig, admin_conn, *, prefix: str = "tcup") -> Iterator[Any]:
    """A non-admin user with role ``member`` on a fresh project, deleted afterwards.

    Needs admin credentials; yields an openstacksdk Connection as that user. The generated
    password is registered with the redactor before it is used.
    """
    import openstack

    name = f"{prefix}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    REDACTOR.register(password)
    identity = admin_conn.identity
    with ResourceCleanup() as cleanup:
        project = identity.create_project(name=name, domain_id="default",
                                          description="tcup-pytest temporary member project")
        cleanup.add(f"project {name}", identity.delete_project, project)
        user = identity.create_user(name=name, password=password, domain_id="default",
                                    default_project_id=project.id)
        cleanup.add(f"user {name}", identity.delete_user, user)
        role = identity.find_role("member", ignore_missing=False)
        identity.assign_project_role_to_user(project, user, role)
        member = openstack.connect(
            load_yaml_config=False, load_envvars=False, auth_type="password",
            auth={"auth_url": cfg.auth_url, "username": name, "password": password,
                  "project_id": project.id, "user_domain_id": "default",
                  "project_domain_id": "default"},
            region_name=cfg.region_name, interface=cfg.interface, verify=cfg.verify)
        try:
            yield member
        finally:
            member.close()
