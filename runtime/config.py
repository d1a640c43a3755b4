"""Settings, read once from ``VECTIS_*`` environment variables.

Every setting is documented in ``docs/configuration.md``; a value that cannot be used raises
:class:`ConfigError`, whose message is the one line shown at start-up.
"""
from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from runtime.errors import ConfigError

#: Project root: the folder holding ``runtime/``, ``definitions/`` and ``var/``.
ROOT = Path(__file__).resolve().parent.parent


def _default_var_dir() -> Path:
    return Path(os.environ.get("VECTIS_VAR_DIR") or ROOT / "var")


@dataclass(frozen=True)
class Settings:
    #: SQLAlchemy URL. ``sqlite:///path`` (default, a file under ``var/``) or ``postgresql://…``.
    database_url: str = ""
    #: ``redis://host:port/db``. Empty means no Redis: jobs run in-process.
    redis_url: str = ""
    #: Signs sessions and bearer tokens. Defaults to a random key kept in ``var/secret_key``.
    secret_key: str = ""
    #: Folder for the SQLite file and the generated secret key.
    var_dir: Path = field(default_factory=_default_var_dir)
    #: Extra folders scanned for extension packs, besides ``extensions/`` (``os.pathsep``-separated).
    extension_dirs: tuple[Path, ...] = ()
    #: Pack names never loaded, even when found.
    disabled_packs: frozenset[str] = frozenset()
    #: Access-token lifetime in seconds.
    access_token_ttl: int = 900
    #: Refresh-token lifetime in seconds.
    refresh_token_ttl: int = 14 * 24 * 3600
    #: Deepest GraphQL selection accepted.
    graphql_max_depth: int = 10
    #: Highest GraphQL query cost accepted (one per selected field, fragments expanded).
    graphql_max_cost: int = 5000
    #: How often a process checks the database for newly published definitions, in seconds.
    definitions_poll_seconds: float = 1.0
    #: Seconds between in-process sweep runs when there is no Redis.
    sweep_interval_seconds: int = 60
    #: Start the in-process sweep timer (off in tests, which call sweeps directly).
    run_sweeps_in_process: bool = True
    #: Log level name.
    log_level: str = "INFO"
    #: ``text`` or ``json`` (one JSON object per line, with the request id).
    log_format: str = "text"
    #: Seconds a process keeps the active channels in memory (0: read them on every request).
    channel_cache_seconds: float = 2.0
    #: The store's base currency (ISO 4217): variant base prices and orders' base amounts are in it.
    base_currency: str = "EUR"
    #: Send the admin UI's session cookie only over HTTPS (turn on behind TLS in production).
    admin_cookie_secure: bool = False
    #: An enabled payment method whose gateway pack is missing: ``/ready`` and ``vectis worker``
    #: refuse (True, the default) or only report it (False).
    strict_payment_readiness: bool = True
    #: Hours a ``placeOrder``/``adminCreateOrder`` idempotency key is kept for its caller; after
    #: that the key is released and the same key places a new order.
    idempotency_key_hours: int = 24
    #: Rate-limit policies over the defaults, a JSON list (``docs/security.md``).
    rate_limits: str = ""
    #: Apply the rate-limit policies at all.
    rate_limits_enabled: bool = True
    #: Proxies in front of the app whose ``X-Forwarded-For`` is believed (0: none, the client's
    #: own address is used).
    trusted_proxies: int = 0
    #: Fernet key sealing secrets at rest (provider credentials). Defaults to a random key kept in
    #: ``var/secrets_master_key``; production sets it (``docs/security.md``).
    secrets_master_key: str = ""
    #: Earlier master keys, comma-separated, still opened during a rotation.
    secrets_master_key_rotating_from: str = ""
    #: Browser origins allowed to call ``/graphql`` (comma-separated; none by default).
    cors_origins: tuple[str, ...] = ()
    #: Let those origins send cookies and ``Authorization`` with credentials mode ``include``.
    cors_allow_credentials: bool = False
    #: When set, ``/metrics`` answers only ``Authorization: Bearer <this token>``.
    metrics_token: str = ""
    #: ``host:port`` to serve ``/metrics`` on instead of the app's own address (``vectis serve``
    #: listens there too); empty: the app serves ``/metrics`` itself.
    metrics_address: str = ""
    #: Let outgoing webhooks go to loopback, private and link-local addresses (development, tests).
    webhooks_allow_private_networks: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


_ENV = {
    "database_url": "VECTIS_DATABASE_URL",
    "redis_url": "VECTIS_REDIS_URL",
    "secret_key": "VECTIS_SECRET_KEY",
    "extension_dirs": "VECTIS_EXTENSION_DIRS",
    "disabled_packs": "VECTIS_DISABLED_PACKS",
    "access_token_ttl": "VECTIS_ACCESS_TOKEN_TTL",
    "refresh_token_ttl": "VECTIS_REFRESH_TOKEN_TTL",
    "graphql_max_depth": "VECTIS_GRAPHQL_MAX_DEPTH",
    "graphql_max_cost": "VECTIS_GRAPHQL_MAX_COST",
    "definitions_poll_seconds": "VECTIS_DEFINITIONS_POLL_SECONDS",
    "sweep_interval_seconds": "VECTIS_SWEEP_INTERVAL_SECONDS",
    "run_sweeps_in_process": "VECTIS_RUN_SWEEPS_IN_PROCESS",
    "log_level": "VECTIS_LOG_LEVEL",
    "log_format": "VECTIS_LOG_FORMAT",
    "base_currency": "VECTIS_BASE_CURRENCY",
    "channel_cache_seconds": "VECTIS_CHANNEL_CACHE_SECONDS",
    "admin_cookie_secure": "VECTIS_ADMIN_COOKIE_SECURE",
    "strict_payment_readiness": "VECTIS_STRICT_PAYMENT_READINESS",
    "idempotency_key_hours": "VECTIS_IDEMPOTENCY_KEY_HOURS",
    "rate_limits": "VECTIS_RATE_LIMITS",
    "rate_limits_enabled": "VECTIS_RATE_LIMITS_ENABLED",
    "trusted_proxies": "VECTIS_TRUSTED_PROXIES",
    "secrets_master_key": "VECTIS_SECRETS_MASTER_KEY",
    "secrets_master_key_rotating_from": "VECTIS_SECRETS_MASTER_KEY_ROTATING_FROM",
    "cors_origins": "VECTIS_CORS_ORIGINS",
    "cors_allow_credentials": "VECTIS_CORS_ALLOW_CREDENTIALS",
    "metrics_token": "VECTIS_METRICS_TOKEN",
    "metrics_address": "VECTIS_METRICS_ADDRESS",
    "webhooks_allow_private_networks": "VECTIS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS",
}

#: Settings for which 0 is meaningful (it turns the feature off).
_ZERO_ALLOWED = {"channel_cache_seconds", "trusted_proxies"}


def _convert(name: str, env_name: str, raw: str, kind: type):
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise ConfigError(f"{env_name}: expected true or false, got {raw!r}")
        return lowered in {"1", "true", "yes", "on"}
    try:
        if kind in (int, float):
            value = kind(raw)
            if value < 0 or (value == 0 and name not in _ZERO_ALLOWED):
                raise ValueError(raw)
            return value
    except ValueError:
        raise ConfigError(f"{env_name}: expected a positive {kind.__name__}, got {raw!r}") from None
    if name == "extension_dirs":
        return tuple(Path(p) for p in raw.split(os.pathsep) if p)
    if name == "cors_origins":
        return _cors_origins(env_name, raw)
    if name == "metrics_address":
        return check_address(env_name, raw)
    if name == "disabled_packs":
        return frozenset(p.strip() for p in raw.split(",") if p.strip())
    if name == "base_currency" and not re.fullmatch(r"[A-Z]{3}", raw.strip()):
        raise ConfigError(f"{env_name}: expected a three-letter ISO 4217 code like EUR, got {raw!r}")
    return raw.strip() if name == "base_currency" else raw


def _cors_origins(env_name: str, raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if origin != "*" and (parts.scheme not in ("http", "https") or not parts.netloc or parts.path):
            raise ConfigError(f"{env_name}: expected origins like https://shop.example.com, got {origin!r}")
    return origins


def check_address(env_name: str, raw: str) -> str:
    """``host:port`` (``[::1]:9100`` for IPv6), port 1-65535."""
    host, _, port = raw.strip().rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{env_name}: expected host:port like 127.0.0.1:9100, got {raw!r}")
    return raw.strip()


def parse_address(address: str) -> tuple[str, int]:
    """``(host, port)`` of a checked ``host:port``; the brackets of an IPv6 host removed."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def normalize_database_url(url: str) -> str:
    """Validate the URL's scheme and pin PostgreSQL to the psycopg 3 driver."""
    scheme = urlsplit(url).scheme
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        return "postgresql+psycopg" + url[len(scheme):]
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") and url != "sqlite://":
            raise ConfigError(f"VECTIS_DATABASE_URL: expected sqlite:///path/to/file.db, got {url!r}")
        return url
    raise ConfigError(
        f"VECTIS_DATABASE_URL: unsupported scheme {scheme or '(none)'!r} in {url!r};"
        " use sqlite:///path or postgresql://user@host/db"
    )


def _check_redis_url(url: str) -> str:
    if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"VECTIS_REDIS_URL: expected redis://host:port/db, got {url!r}")
    return url


def _secret_key(var_dir: Path, name: str = "secret_key") -> str:
    """A stable random key for a development machine, kept next to the SQLite file."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    # The secrets master key is a Fernet key: 32 random bytes in URL-safe base64.
    key = base64.urlsafe_b64encode(os.urandom(32)).decode() if name == "secrets_master_key" else secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(environ: dict[str, str] | None = None, **overrides) -> Settings:
    """Build settings from the environment, then apply keyword overrides (used by tests)."""
    environ = os.environ if environ is None else environ
    types = {f.name: f.type for f in fields(Settings)}
    values = {}
    for name, env_name in _ENV.items():
        raw = environ.get(env_name)
        if raw not in (None, ""):
            kind = {"int": int, "float": float, "bool": bool}.get(str(types[name]), str)
            values[name] = _convert(name, env_name, raw, kind)
    if environ.get("VECTIS_VAR_DIR"):
        values["var_dir"] = Path(environ["VECTIS_VAR_DIR"])
    settings = replace(Settings(), **values)
    settings = replace(settings, **overrides)
    var_dir = Path(settings.var_dir)
    database_url = settings.database_url or f"sqlite:///{var_dir / 'vectis.db'}"
    return replace(
        settings,
        var_dir=var_dir,
        database_url=normalize_database_url(database_url),
        redis_url=_check_redis_url(settings.redis_url),
        secret_key=settings.secret_key or _secret_key(var_dir),
        secrets_master_key=settings.secrets_master_key or _secret_key(var_dir, "secrets_master_key"),
        metrics_address=check_address("VECTIS_METRICS_ADDRESS", settings.metrics_address) if settings.metrics_address else "",
    )
