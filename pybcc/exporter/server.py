"""HTTP side: prometheus-client's content negotiation (text format or
OpenMetrics, by the Accept header), gzip and WSGI server, with optional TLS
and basic auth from a web-config file. A plain GET's body is the daemon's
text(): the sets' series through our fast encoder (exposition.py), the rest
through prometheus-client's; anything else (OPTIONS, name[] filters, ...)
goes to prometheus-client's own WSGI app."""
import base64
import gzip
import socket
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer, choose_encoder, gzip_accepted

DEFAULT_LISTEN = "127.0.0.1:9435"


class ListenError(ValueError):
    pass


def parse_listen(text):
    """'HOST:PORT' or '[v6]:PORT' -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ListenError(f"bad listen address {text!r} (expected HOST:PORT, e.g. {DEFAULT_LISTEN})")
    return host.strip("[]") or "0.0.0.0", int(port)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def _tolerant_accept(app):
    """An Accept header prometheus-client cannot parse (it answers 500 for
    e.g. 'application/openmetrics-text; version=x') gets the text format."""
    def wrapped(environ, start_response):
        accept = environ.get("HTTP_ACCEPT")
        if accept is not None:
            try:
                choose_encoder(accept)
            except Exception:
                environ = dict(environ)
                del environ["HTTP_ACCEPT"]
        return app(environ, start_response)
    return wrapped


def _metrics_app(daemon):
    fallback = make_wsgi_app(daemon.registry)

    def app(environ, start_response):
        if (environ["REQUEST_METHOD"] != "GET" or environ.get("QUERY_STRING")
                or environ.get("PATH_INFO") == "/favicon.ico"):
            return fallback(environ, start_response)
        encoder, content_type = choose_encoder(environ.get("HTTP_ACCEPT"))
        body = daemon.text(encoder, content_type.startswith("application/openmetrics-text"))
        headers = [("Content-Type", content_type)]
        if gzip_accepted(environ.get("HTTP_ACCEPT_ENCODING")):
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        start_response("200 OK", headers)
        return [body]
    return app


def _basic_auth(app, users):
    import bcrypt
    checked = {}     # (user, password) -> ok; bcrypt is slow on purpose, scrapes are frequent

    def guarded(environ, start_response):
        header = environ.get("HTTP_AUTHORIZATION", "")
        ok = False
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            hashed = users.get(user)
            if hashed is not None:
                key = (user, password)
                if key not in checked:
                    if len(checked) > 64:
                        checked.clear()
                    checked[key] = bcrypt.checkpw(password.encode(), hashed)
                ok = checked[key]
        if not ok:
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="pybcc"'),
                                                 ("Content-Type", "text/plain")])
            return [b"Unauthorized\n"]
        return app(environ, start_response)
    return guarded


def serve(daemon, listen, web=None):
    """Start serving the daemon's metrics in a thread; returns the server
    (server_close() closes its socket; the thread is a daemon)."""
    host, port = parse_listen(listen)
    app = _tolerant_accept(_metrics_app(daemon))
    if web is not None and web.users:
        app = _basic_auth(app, web.users)

    class Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True

    httpd = make_server(host, port, app, Server, handler_class=_QuietHandler)
    if web is not None and web.ssl_context is not None:
        httpd.socket = web.ssl_context.wrap_socket(httpd.socket, server_side=True)
    # no poll timeout: the accept loop sleeps until a scrape comes (the
    # default wakes it twice a second, ~0.2 ms of CPU a second for nothing)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": None},
                         name="pybcc-exporter-http", daemon=True)
    t.start()
    return httpd
