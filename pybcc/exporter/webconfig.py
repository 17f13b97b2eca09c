"""Prometheus' web-config file (exporter-toolkit's format): TLS and basic auth.

    tls_server_config:
      cert_file: server.crt
      key_file: server.key
      client_ca_file: ca.crt                         # optional
      client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (default)
      min_version: TLS12                             # optional
    basic_auth_users:
      alice: $2y$10$...                              # bcrypt hashes (htpasswd -B)

Paths are relative to the web-config file. Errors are ConfigError with file:line.
"""
import os
import ssl
from dataclasses import dataclass, field
from typing import Dict, Optional

from .config import ConfigError, Where, check_keys, get, parse

TLS_KEYS = {"cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version",
            "max_version"}
CLIENT_AUTH = {"NoClientCert": False, "RequireAndVerifyClientCert": True}
VERSIONS = {"TLS10": ssl.TLSVersion.TLSv1, "TLS11": ssl.TLSVersion.TLSv1_1,
            "TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}


@dataclass
class WebConfig:
    ssl_context: Optional[ssl.SSLContext] = None
    users: Dict[str, bytes] = field(default_factory=dict)    # user -> bcrypt hash


def load(path):
    data = parse(path)
    where = Where(path)
    check_keys(where, data, {"tls_server_config", "basic_auth_users", "http_server_config"},
               "the web config")
    base = os.path.dirname(os.path.abspath(path))
    web = WebConfig()
    tls = get(where, data, "tls_server_config", dict)
    if tls is not None:
        check_keys(where, tls, TLS_KEYS, "tls_server_config")
        cert, key = get(where, tls, "cert_file", str), get(where, tls, "key_file", str)
        if not cert or not key:
            raise where.error(tls, None, "tls_server_config needs cert_file and key_file")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            ctx.load_cert_chain(os.path.join(base, cert), os.path.join(base, key))
        except (OSError, ssl.SSLError) as e:
            raise where.error(tls, "cert_file", f"cannot load certificate/key: {e}") from None
        auth = get(where, tls, "client_auth_type", str, default="NoClientCert",
                   check=lambda v: None if v in CLIENT_AUTH else
                   f"supported: {', '.join(CLIENT_AUTH)}")
        ca = get(where, tls, "client_ca_file", str)
        if ca:
            try:
                ctx.load_verify_locations(os.path.join(base, ca))
            except (OSError, ssl.SSLError) as e:
                raise where.error(tls, "client_ca_file", f"cannot load CA: {e}") from None
        if CLIENT_AUTH[auth]:
            if not ca:
                raise where.error(tls, "client_auth_type", "client certificates need client_ca_file")
            ctx.verify_mode = ssl.CERT_REQUIRED
        for key_name, attr in (("min_version", "minimum_version"), ("max_version", "maximum_version")):
            v = get(where, tls, key_name, str,
                    check=lambda v: None if v in VERSIONS else f"one of {', '.join(VERSIONS)}")
            if v:
                setattr(ctx, attr, VERSIONS[v])
        web.ssl_context = ctx
    users = get(where, data, "basic_auth_users", dict, default={})
    for user, hashed in users.items():
        if not isinstance(hashed, str) or not hashed.startswith("$2"):
            raise where.error(users, user, f"basic_auth_users.{user}: expected a bcrypt hash")
        web.users[str(user)] = hashed.encode()
    if web.users:
        try:
            import bcrypt  # noqa: F401
        except ImportError:
            raise ConfigError(f"{path}: basic_auth_users needs the bcrypt package "
                              "(pip install 'pybcc[exporter]')") from None
    return web
