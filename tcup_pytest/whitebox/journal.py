"""A local journal of config files changed on hosts, for restores a ``finally`` never ran.

``config_change`` restores in ``finally`` (failures, Ctrl-C, SIGTERM), but a SIGKILL, an OOM
kill or a lost runner skip it. Before changing a file we note its original bytes here; the
entry is removed once restored. The next session recovers entries whose process is gone
(:func:`recover`) before it touches those hosts.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tcup_pytest.pids import pid_alive

LOG = logging.getLogger("tcup_pytest.whitebox.journal")
JOURNAL_ENV = "TCUP_WHITEBOX_JOURNAL"


def journal_dir() -> Path:
    default = Path.home() / ".cache" / "tcup-pytest" / "whitebox-restore"
    return Path(os.environ.get(JOURNAL_ENV) or default)


def record(identity: str, host: str, path: str, original: bytes, service: str) -> Path:
    """Note ``original`` before a change; returns the entry to :func:`forget` afterwards."""
    directory = journal_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = hashlib.sha256(f"{identity}\0{path}".encode()).hexdigest()[:16]
    entry = directory / f"{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
    data = {"identity": identity, "host": host, "path": path, "service": service,
            "pid": os.getpid(), "created": time.time(),
            "original": base64.b64encode(original).decode()}
    temporary = entry.with_suffix(".tmp")
    # Config files may hold passwords: the journal is private to this user.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    temporary.rename(entry)
    return entry


def forget(entry: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        entry.unlink()


def orphans() -> Iterator[tuple[Path, dict[str, Any]]]:
    """Entries whose process died: oldest first, so the first per file is its original."""
    directory = journal_dir()
    if not directory.is_dir():
        return
    entries = []
    for entry in directory.glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(entry.read_text())
            if not pid_alive(int(data["pid"])):
                entries.append((data["created"], entry, data))
    for _, entry, data in sorted(entries, key=lambda item: item[0]):
        yield entry, data


def recover(restore: Callable[[dict[str, Any], bytes], bool]) -> int:
    """Call ``restore(entry, original)`` for each orphaned file (once per host and path);
    entries are dropped when it returns true. Returns how many files were restored."""
    done: dict[tuple[str, str], bool] = {}
    for entry, data in orphans():
        key = (data["identity"], data["path"])
        if key not in done:
            done[key] = restore(data, base64.b64decode(data["original"]))
            if done[key]:
                LOG.warning("restored %s on %s, left changed by a killed run (pid %s)",
                            data["path"], data["host"], data["pid"])
        if done[key]:
            forget(entry)
    return sum(done.values())
