"""CloudConfig: the cloud under test, resolved once from options, clouds.yaml and OS_*.

Resolution goes through openstacksdk's own config loader (never a second clouds.yaml parser):
command-line values override the named cloud (``--os-cloud`` / ``OS_CLOUD``) from clouds.yaml,
which overrides plain ``OS_*`` variables. A missing password is prompted for on a terminal;
every secret is registered with the redactor as soon as it is known::

    >>> cfg = CloudConfig.load(cloud="mycloud")     # doctest: +SKIP
    >>> cfg.check(); conn = cfg.connect()           # doctest: +SKIP
"""

from __future__ import annotations

import functools
import getpass
import os
import re
import sys
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tcup_pytest.errors import AuthFailed, CloudUnreachable, ConfigError, TLSFailure
from tcup_pytest.redaction import MASK, REDACTOR

if TYPE_CHECKING:
    from keystoneauth1 import session as ksa_session
    from openstack.config import cloud_region

# openstacksdk and keystoneauth1 are imported where a cloud is resolved or used, not here:
# importing openstack costs ~0.3 s, paid by every pytest process (and xdist worker) that
# loads our plugins, most of which never resolve a cloud (a given tempest.conf, --help, ...).

#: auth keys that hold secrets
SECRET_KEYS = ("password", "application_credential_secret", "token", "passcode")

#: How to set each auth value from the environment, for the "missing" message.
ENV_HINTS = {
    "auth_url": "OS_AUTH_URL",
    "username": "OS_USERNAME (or OS_USER_ID)",
    "password": "OS_PASSWORD",
    "project": "OS_PROJECT_NAME (or OS_PROJECT_ID, OS_TENANT_NAME)",
    "user_domain": "OS_USER_DOMAIN_NAME (or OS_USER_DOMAIN_ID)",
    "project_domain": "OS_PROJECT_DOMAIN_NAME (or OS_PROJECT_DOMAIN_ID)",
    "application_credential_id": "OS_APPLICATION_CREDENTIAL_ID",
    "application_credential_secret": "OS_APPLICATION_CREDENTIAL_SECRET",
    "token": "OS_TOKEN",
}


class CloudConfig:
    """A resolved cloud: auth values, region, interface and TLS settings."""

    def __init__(self, region: cloud_region.CloudRegion, *, source: str) -> None:
        self.region = region
        self.source = source
        for key in SECRET_KEYS:
            REDACTOR.register(self.auth.get(key))

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, *, cloud: str | None = None, overrides: Mapping[str, Any] | None = None,
             prompt: bool | None = None) -> CloudConfig:
        """Resolve the cloud; raise :class:`ConfigError` naming everything that is missing.

        ``overrides`` are openstacksdk keys (``auth_url``, ``username``, ``region_name``, ...)
        from the command line. ``prompt`` defaults to "stdin is a terminal".
        """
        cloud = cloud or os.environ.get("OS_CLOUD") or None
        overrides = {k: v for k, v in (overrides or {}).items() if v not in (None, "")}
        for key in SECRET_KEYS:
            REDACTOR.register(overrides.get(key))
        for key in ("OS_PASSWORD", "OS_TOKEN", "OS_APPLICATION_CREDENTIAL_SECRET"):
            REDACTOR.register(os.environ.get(key))
        _check_yaml_syntax()
        region = _get_one(cloud, overrides)
        source = f"cloud {cloud!r} ({_config_file(region)})" if cloud else "OS_* variables"
        missing = missing_values(region.config)
        if missing == ["password"] and _may_prompt(prompt):
            password = getpass.getpass(f"Password for {region.config['auth'].get('username')}"
                                       f" at {region.config['auth'].get('auth_url')}: ")
            REDACTOR.register(password)
            if password:
                region = _get_one(cloud, {**overrides, "password": password})
                missing = missing_values(region.config)
        if missing:
            names = ", ".join(ENV_HINTS.get(m, m) for m in missing)
            where = (f"Add them to cloud {cloud!r} in {_config_file(region)} or pass them as "
                     "options" if cloud else
                     "Set them in the environment (e.g. source your openrc) or use --os-cloud")
            raise ConfigError(f"cloud configuration incomplete, missing: {names}", hint=where)
        return cls(region, source=source)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CloudConfig:
        """Rebuild from :meth:`to_dict` (used to hand the config to xdist workers in memory)."""
        from openstack.config import loader

        config = dict(data["config"])
        oc = loader.OpenStackConfig(load_yaml_config=False, load_envvars=False)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Support for InfluxDB")
            region = oc.get_one(**config)
        return cls(region, source=data.get("source", "worker"))

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild this config, secrets included: never write it to disk."""
        return {"config": _plain(self.region.config), "source": self.source}

    # -- values ----------------------------------------------------------------------------

    @property
    def auth(self) -> dict[str, Any]:
        return self.region.config.get("auth", {})

    def _auth(self, key: str) -> Any:
        return self.auth.get(key)

    auth_url = property(lambda self: self._auth("auth_url"))
    username = property(lambda self: self._auth("username"))
    password = property(lambda self: self._auth("password"))
    project_name = property(lambda self: self._auth("project_name"))
    project_id = property(lambda self: self._auth("project_id"))
    user_domain_name = property(lambda self: self._auth("user_domain_name"))
    user_domain_id = property(lambda self: self._auth("user_domain_id"))
    project_domain_name = property(lambda self: self._auth("project_domain_name"))
    project_domain_id = property(lambda self: self._auth("project_domain_id"))
    system_scope = property(lambda self: self._auth("system_scope"))

    @property
    def auth_type(self) -> str:
        return self.region.config.get("auth_type") or "password"

    @property
    def region_name(self) -> str | None:
        return self.region.region_name or None

    @property
    def interface(self) -> str:
        return self.region.get_interface() or "public"

    @property
    def verify(self) -> bool | str:
        """``False`` (insecure), a CA bundle path, or ``True`` (system CAs)."""
        return self.region.get_requests_verify_args()[0]

    def masked(self) -> dict[str, Any]:
        """The resolved values for display, secrets shown as ``***``."""
        auth = {k: (MASK if k in SECRET_KEYS and v else v) for k, v in sorted(self.auth.items())}
        return {"source": self.source, "auth_type": self.auth_type, "auth": auth,
                "region_name": self.region_name, "interface": self.interface,
                "verify": self.verify}

    # -- connecting ------------------------------------------------------------------------

    @functools.cached_property
    def _session(self) -> ksa_session.Session:
        session = self.region.get_session()
        _register_tokens(session.auth)
        return session

    def session(self) -> ksa_session.Session:
        """A keystoneauth1 Session for this cloud (shared; tokens are registered secrets)."""
        return self._session

    def connect(self):
        """An openstacksdk Connection on the shared session."""
        import openstack.connection

        return openstack.connection.Connection(config=self.region, session=self.session())

    def check(self):
        """Authenticate once; turn what can go wrong into one clear :class:`TcupError`."""
        session = self.session()
        with translate_auth_errors(self):
            return session.auth.get_access(session)

    @property
    def is_admin(self) -> bool:
        return "admin" in (self.check().role_names or [])


class translate_auth_errors:  # noqa: N801 - used as a context manager, reads as a phrase
    """Map keystoneauth/openstacksdk failures to one-line errors with a fix."""

    def __init__(self, cfg: CloudConfig) -> None:
        self.cfg = cfg

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            return False
        from keystoneauth1 import exceptions as ksa_exc
        from openstack import exceptions as sdk_exc

        url = self.cfg.auth_url
        if isinstance(exc, ksa_exc.SSLError):
            raise TLSFailure(f"TLS verification failed for {url}",
                             hint="Set OS_CACERT to the CA bundle that signed the cloud's "
                                  "certificate, or OS_INSECURE=true to skip verification") from None
        if isinstance(exc, (ksa_exc.ConnectFailure, ksa_exc.ConnectTimeout)):
            raise CloudUnreachable(f"cannot connect to the auth URL {url}",
                                   hint="Check OS_AUTH_URL and that the cloud is reachable "
                                        "from here") from None
        if isinstance(exc, ksa_exc.Unauthorized):
            who = self.cfg.username or self.cfg.auth_type
            raise AuthFailed(f"the cloud rejected the credentials of {who} (HTTP 401)",
                             hint="Check OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME and the "
                                  "domain variables") from None
        if isinstance(exc, (ksa_exc.DiscoveryFailure, ksa_exc.NotFound, ksa_exc.HttpError,
                            sdk_exc.SDKException)):
            raise CloudUnreachable(f"{url} does not answer like a keystone identity endpoint",
                                   hint="OS_AUTH_URL must point at keystone, e.g. "
                                        "https://keystone.example.com:5000/v3") from None
        return False


def missing_values(config: Mapping[str, Any]) -> list[str]:
    """Which required auth values are missing, as keys of :data:`ENV_HINTS`."""
    auth = config.get("auth") or {}
    auth_type = config.get("auth_type") or "password"
    missing = [] if auth.get("auth_url") else ["auth_url"]
    if "applicationcredential" in auth_type:
        if not auth.get("application_credential_id") and not auth.get(
                "application_credential_name"):
            missing.append("application_credential_id")
        if not auth.get("application_credential_secret"):
            missing.append("application_credential_secret")
        return missing
    if "token" in auth_type:
        return missing + ([] if auth.get("token") else ["token"])
    if not (auth.get("username") or auth.get("user_id")):
        missing.append("username")
    if auth.get("username") and not (auth.get("user_domain_name") or auth.get("user_domain_id")
                                     or auth.get("default_domain_id")
                                     or auth.get("default_domain_name")):
        missing.append("user_domain")
    scoped = auth.get("system_scope") or auth.get("domain_id") or auth.get("domain_name")
    if not scoped and not (auth.get("project_name") or auth.get("project_id")):
        missing.append("project")
    if auth.get("project_name") and not (auth.get("project_domain_name")
                                         or auth.get("project_domain_id")
                                         or auth.get("default_domain_id")
                                         or auth.get("default_domain_name")):
        missing.append("project_domain")
    if not auth.get("password"):
        missing.append("password")
    return missing


#: Top-level (not auth) keys of openstacksdk's config.
NON_AUTH_KEYS = {"region_name", "interface", "cacert", "insecure", "verify", "auth_type",
                 "identity_api_version", "cert", "key", "api_timeout"}


def _get_one(cloud: str | None, overrides: Mapping[str, Any]) -> cloud_region.CloudRegion:
    with warnings.catch_warnings():
        # openstacksdk warns about an optional metrics backend on every region: noise.
        warnings.filterwarnings("ignore", message="Support for InfluxDB")
        return _get_one_region(cloud, overrides)


def _get_one_region(cloud: str | None, overrides: Mapping[str, Any]
                    ) -> cloud_region.CloudRegion:
    from keystoneauth1 import exceptions as ksa_exc
    from openstack import exceptions as sdk_exc
    from openstack.config import loader

    args = {k: v for k, v in overrides.items() if k in NON_AUTH_KEYS or k == "auth"}
    auth = {k: v for k, v in overrides.items() if k not in args}
    if auth:  # inside "auth" they override the named cloud's values; top-level they don't
        args["auth"] = {**args.get("auth", {}), **auth}
    try:
        oc = loader.OpenStackConfig()
        try:
            return oc.get_one(cloud=cloud, **args)
        except (ksa_exc.MissingRequiredOptions, ksa_exc.OptionError):
            # Unvalidated, the auth values stay where the user put them: gather them so
            # missing_values() can name what is missing.
            region = oc.get_one(cloud=cloud, validate=False, **args)
            auth = region.config.setdefault("auth", {})
            for key, value in list(region.config.items()):
                if key in ENV_HINTS or key.endswith(("_name", "_id")) and key != "region_name":
                    auth.setdefault(key, value)
            return region
    except TypeError as exc:  # an auth value the chosen auth type does not take
        match = re.search(r"argument '(\w+)'", str(exc))
        env = f"OS_{match.group(1).upper()}" if match else "an auth value"
        auth_type = overrides.get("auth_type") or os.environ.get("OS_AUTH_TYPE") or "password"
        raise ConfigError(f"{env} does not go with auth type {auth_type}",
                          hint=f"Unset {env} or choose another OS_AUTH_TYPE") from None
    except (sdk_exc.ConfigException, KeyError, ValueError) as exc:
        if cloud:
            files = "./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml"
            raise ConfigError(f"cloud {cloud!r} not found in clouds.yaml",
                              hint=f"Check OS_CLOUD / --os-cloud and the files {files} "
                                   "(or OS_CLIENT_CONFIG_FILE)") from None
        raise ConfigError(f"invalid cloud configuration: {exc}",
                          hint="Check the OS_* variables") from None


def _check_yaml_syntax() -> None:
    """Fail on a clouds.yaml that does not parse.

    openstacksdk's loader logs a warning and skips such a file, which surfaces later as a
    baffling "cloud not found"; this only checks the syntax of the file it would read.
    """
    import yaml
    from openstack.config import loader

    candidates = [os.environ.get("OS_CLIENT_CONFIG_FILE"), *loader.CONFIG_FILES,
                  *loader.SECURE_FILES]
    for path in filter(None, candidates):
        if not os.path.isfile(path):
            continue
        try:
            with open(path) as handle:
                yaml.safe_load(handle)
        except OSError:
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}, line {mark.line + 1}" if mark else path
            raise ConfigError(f"cannot parse {where}: {getattr(exc, 'problem', exc)}",
                              hint="Fix the YAML syntax of that file") from None


def _config_file(region: cloud_region.CloudRegion) -> str:
    return os.environ.get("OS_CLIENT_CONFIG_FILE") or "clouds.yaml"



def _may_prompt(prompt: bool | None) -> bool:
    if prompt is not None:
        return prompt
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _register_tokens(plugin) -> None:
    """Register every token the auth plugin fetches, including re-authentications."""
    original = plugin.get_auth_ref

    def get_auth_ref(session, **kwargs):
        ref = original(session, **kwargs)
        REDACTOR.register(getattr(ref, "auth_token", None))
        return ref

    plugin.get_auth_ref = get_auth_ref
    REDACTOR.register(getattr(plugin, "token", None))
