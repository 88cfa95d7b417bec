"""Interop guidelines (openstack/interop JSON): capabilities, their tests, and test lists.

The test list is made by the same rules as the RefStack server's ``/v1/guidelines/<v>/tests``
(so a run selected locally is the run the server would have asked for): capabilities of the
target's components with the chosen statuses, ``name[idempotent_id]`` per test, aliases
repeated with the same id, flagged tests dropped when ``flag=False``, sorted, duplicates kept.

    >>> g = Guideline.load("2020.06.json")                          # doctest: +SKIP
    >>> g.test_list("platform", types=["required"], flag=False)[:1]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from tcup_pytest.errors import ExitCode, TcupError

STATUSES = ("required", "advisory", "deprecated", "removed")
#: Platform targets → the ``platforms`` entry naming their components (as the server maps).
PLATFORM_TARGETS = {"platform": "OpenStack Powered Platform",
                    "compute": "OpenStack Powered Compute",
                    "object": "OpenStack Powered Storage"}
#: A dotted test id without blanks (names may hold odd characters, e.g. ``...template:Where``).
_TEST_LINE_RE = re.compile(r"^[A-Za-z_]\w*\.\S+$")
_NAME_RE = re.compile(r"^(?:[a-z_]+\.)?(?:\d{4}\.\d{2}|next)(?:\.json)?$")


class GuidelineError(TcupError):
    exit_code = ExitCode.GUIDELINE


@dataclass(frozen=True)
class GuidelineTest:
    """A test of a capability; ``uuid`` is bare (platform files write ``id-<uuid>``)."""

    name: str
    idempotent_id: str = ""
    aliases: tuple[str, ...] = ()
    flagged: dict | None = None

    @property
    def uuid(self) -> str | None:
        return self.idempotent_id.removeprefix("id-").lower() or None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Capability:
    name: str
    tests: tuple[GuidelineTest, ...]
    project: str = ""
    description: str = ""
    admin: bool = False
    #: status per component (a capability may be required in one and advisory in another)
    statuses: dict[str, str] = field(default_factory=dict)


class Guideline:
    """One guideline document (platform, e.g. ``2020.06``, or add-on, e.g. ``dns.2020.06``)."""

    def __init__(self, data: dict, *, source: str = "guideline") -> None:
        if not isinstance(data, dict) or "capabilities" not in data or "components" not in data:
            raise GuidelineError(f"{source} is not an interop guideline (no capabilities or "
                                 "components)")
        self.data = data
        self.source = source
        meta = data.get("metadata") or {}
        self.schema = str(meta.get("schema") or data.get("schema") or "")
        self.id = str(meta.get("id") or Path(source).name.removesuffix(".json"))
        self.capabilities = {name: _capability(name, cap, self.schema)
                             for name, cap in data["capabilities"].items()}
        for component, status, caps in self._component_statuses():
            for cap in caps:
                if cap in self.capabilities:
                    self.capabilities[cap].statuses[component] = status

    def __repr__(self) -> str:
        return f"Guideline({self.id!r}, schema {self.schema}, {len(self.capabilities)} caps)"

    # -- loading ----------------------------------------------------------------------------
    @classmethod
    def load(cls, source: str | Path, *, server_url: str | None = None,
             verify: bool | str = True) -> Guideline:
        """From a local file, an http(s) URL, a name on a RefStack server (``2020.06``), or a
        guideline shipped with tcup (``bundled:2020.06``)."""
        text = str(source)
        if text.startswith("bundled:"):
            return cls.bundled(text.removeprefix("bundled:"))
        path = Path(text).expanduser()
        if path.is_file():
            return cls.from_file(path)
        if text.startswith(("http://", "https://")):
            return cls(_fetch_json(text, verify), source=text)
        if _NAME_RE.match(text):
            from tcup_pytest.refstack.client import RefStackClient, UploadError

            client = RefStackClient(server_url, verify=verify, retries=2)
            name = text if text.endswith(".json") else text + ".json"
            try:
                return cls(client.guideline(name), source=f"{client.url}/v1/guidelines/{name}")
            except UploadError as exc:
                if exc.exit_code == ExitCode.UPLOAD and "unreachable" in exc.message:
                    raise GuidelineError(exc.message, hint=exc.hint) from None
                raise GuidelineError(f"unknown guideline {text!r}: the RefStack server at "
                                     f"{client.url} does not have it",
                                     hint="List what it offers with: tcup guidelines") from None
        raise GuidelineError(f"guideline {text!r} is neither a file, a URL nor a guideline name",
                             hint="Give e.g. 2020.06, dns.2020.06, a .json path or a URL")

    @classmethod
    def find(cls, source: str | Path, **kwargs) -> Guideline:
        """The shipped copy for a bare name tcup bundles (offline), else :meth:`load`."""
        text = str(source)
        if _NAME_RE.match(text) and not Path(text).expanduser().exists():
            try:
                return cls.bundled(text)
            except GuidelineError:
                pass
        return cls.load(text, **kwargs)

    @classmethod
    def from_file(cls, path: str | Path) -> Guideline:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise GuidelineError(f"guideline file {path} does not exist") from None
        except (OSError, ValueError) as exc:
            raise GuidelineError(f"guideline file {path} is not readable JSON ({exc})") from None
        return cls(data, source=str(path))

    @classmethod
    def bundled(cls, name: str) -> Guideline:
        """A guideline shipped with tcup (``2020.06``, ``dns.2020.06``), usable offline."""
        name = name if name.endswith(".json") else name + ".json"
        ref = resources.files("tcup_pytest") / "data" / "guidelines" / name
        if not ref.is_file():
            shipped = sorted(p.name for p in ref.parent.iterdir() if p.name[0].isalnum()
                             and p.name.endswith(".json") and not p.name.startswith("schema"))
            raise GuidelineError(f"unknown guideline {name!r}: tcup ships "
                                 f"{', '.join(shipped)}")
        return cls(json.loads(ref.read_text(encoding="utf-8")), source=f"bundled:{name}")

    # -- structure --------------------------------------------------------------------------
    @property
    def is_addon(self) -> bool:
        return "add-ons" in self.data

    @property
    def targets(self) -> list[str]:
        """Targets this guideline answers: platform/compute/object, or its add-on name(s)."""
        if self._v2 and not self.is_addon:
            names = set(self.data.get("platforms") or {})
            return [t for t, p in PLATFORM_TARGETS.items() if p in names]
        return sorted(c.removeprefix("os_powered_") for c in self.data["components"])

    def components_of(self, target: str = "platform") -> list[str]:
        """Component names of a target, as the server resolves them."""
        try:
            if not self._v2:
                if target == "platform":
                    return list(self.data["platform"]["required"])
                self.data["components"][target]  # noqa: B018 - KeyError means unknown
                return [target]
            if target in PLATFORM_TARGETS:
                comps = self.data["platforms"][PLATFORM_TARGETS[target]]["components"]
                return [c["name"] for c in comps]
            component = "os_powered_" + target
            self.data["components"][component]  # noqa: B018
            return [component]
        except (KeyError, TypeError):
            raise GuidelineError(f"invalid target {target!r} for guideline {self.id}",
                                 hint=f"Choose one of: {', '.join(self.targets)}") from None

    def capabilities_of(self, target: str = "platform",
                        types: Iterable[str] | str | None = None) -> list[Capability]:
        """The target's capabilities with one of the statuses ``types`` (default: all)."""
        wanted = _types(types)
        names: set[str] = set()
        for component, status, caps in self._component_statuses():
            if component in self.components_of(target) and (wanted is None or status in wanted):
                names.update(caps)
        return [cap for name, cap in self.capabilities.items() if name in names]

    def status_of(self, capability: str, target: str = "platform") -> str | None:
        """The capability's status for this target (the strongest if components differ)."""
        statuses = [s for c, s in self.capabilities[capability].statuses.items()
                    if c in self.components_of(target)]
        return min(statuses, key=STATUSES.index) if statuses else None

    def test_list(self, target: str = "platform", types: Iterable[str] | str | None = None,
                  alias: bool = True, flag: bool = True) -> list[str]:
        """Exactly the lines the RefStack server's ``/tests`` endpoint gives."""
        lines: list[str] = []
        for cap in self.capabilities_of(target, types):
            for test in cap.tests:
                if test.flagged and not flag:
                    continue
                if self.schema == "1.2":  # 1.2 lists bare names, no ids
                    lines.append(test.name)
                    continue
                for name in (test.names if alias else (test.name,)):
                    lines.append(f"{name}[{test.idempotent_id}]")
        return sorted(lines)

    @property
    def _v2(self) -> bool:
        return "metadata" in self.data and self.schema >= "2.0"

    def _component_statuses(self) -> Iterable[tuple[str, str, list[str]]]:
        for component, body in (self.data.get("components") or {}).items():
            statuses = body.get("capabilities", {}) if self._v2 else body
            for status, caps in (statuses or {}).items():
                if isinstance(caps, list):
                    yield component, status, caps


def _capability(name: str, cap: dict, schema: str) -> Capability:
    raw = cap.get("tests") or {}
    if isinstance(raw, list):  # schema 1.2: names plus a separate "flagged" list
        flagged = set(cap.get("flagged") or ())
        tests = tuple(GuidelineTest(t, flagged={"reason": "flagged"} if t in flagged else None)
                      for t in raw)
    else:
        tests = tuple(GuidelineTest(t, str((d or {}).get("idempotent_id") or ""),
                                    tuple((d or {}).get("aliases") or ()),
                                    (d or {}).get("flagged") or None)
                      for t, d in raw.items())
    return Capability(name, tests, str(cap.get("project") or ""),
                      str(cap.get("description") or cap.get("descriptin") or ""),
                      bool(cap.get("admin")), {})


def _types(types: Iterable[str] | str | None) -> set[str] | None:
    if types is None or types == "":
        return None
    if isinstance(types, str):
        types = types.split(",")
    return set(types)


def _fetch_json(url: str, verify: bool | str) -> dict:
    import requests

    try:
        response = requests.get(url, timeout=60, verify=verify)
    except requests.RequestException as exc:
        raise GuidelineError(f"cannot fetch guideline {url} ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise GuidelineError(f"cannot fetch guideline {url} (HTTP {response.status_code})")
    try:
        return response.json()
    except ValueError:
        raise GuidelineError(f"{url} is not a JSON guideline") from None


def parse_test_list(text: str) -> list[str]:
    """Validate a ``/tests`` answer: the server returns its errors as 200 plain text."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    bad = [line for line in lines if not _TEST_LINE_RE.match(line)]
    if bad:
        raise GuidelineError(f"the test list is not a list of tests: {bad[0][:100]!r}")
    return lines
