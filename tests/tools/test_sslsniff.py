import os
import subprocess
import sys

import pytest

from .badinput import assert_one_line_error
from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")

# A TLS server in Python's ssl module: it answers one connection's message
# with "reply " + the message.
TLS_SERVER = r"""
import socket, ssl, sys, threading
cert, key = sys.argv[1:3]
server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server.load_cert_chain(cert, key)
listener = socket.create_server(("127.0.0.1", 0))

def serve():
    conn, _ = listener.accept()
    with server.wrap_socket(conn, server_side=True) as s:
        s.sendall(b"reply " + s.recv(65536))
"""

# That server (a thread) and a client in one Python process, both through
# OpenSSL (SSL_read_ex/SSL_write_ex, SSL_do_handshake). It starts when told
# on stdin, so the tool is attached by then.
TLS_PAIR = TLS_SERVER + r"""
marker = sys.argv[3]
client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
client.load_verify_locations(cert)
sys.stdin.readline()
t = threading.Thread(target=serve)
t.start()
sock = socket.create_connection(listener.getsockname())
with client.wrap_socket(sock, server_hostname="localhost") as c:
    c.sendall(marker.encode())
    got = b""
    while len(got) < len(marker) + 6:
        got += c.recv(65536)
t.join()
"""

# The TLS clients below: "CLIENT PORT MARKER" waits for a line on stdin,
# connects to 127.0.0.1:PORT, sends MARKER and reads the reply.
CLIENT_PRELUDE = r"""
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int connect_when_told(const char *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(port))};
    char go[8];
    int fd;

    if (!fgets(go, sizeof(go), stdin))
        return -1;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    return connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -1 : fd;
}
"""

# GnuTLS: gnutls_record_send/recv
GNUTLS_CLIENT_C = CLIENT_PRELUDE + r"""
#include <gnutls/gnutls.h>

int main(int argc, char **argv)
{
    const char *marker = argv[2];
    gnutls_certificate_credentials_t cred;
    gnutls_session_t session;
    char buf[4096];
    size_t got = 0;
    int fd = connect_when_told(argv[1]), ret;

    if (fd < 0)
        return 2;
    gnutls_certificate_allocate_credentials(&cred);
    gnutls_init(&session, GNUTLS_CLIENT);
    gnutls_set_default_priority(session);
    gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_transport_set_int(session, fd);
    do {
        ret = gnutls_handshake(session);
    } while (ret < 0 && !gnutls_error_is_fatal(ret));
    if (ret < 0)
        return 3;
    if (gnutls_record_send(session, marker, strlen(marker)) != (ssize_t)strlen(marker))
        return 4;
    while (got < strlen(marker) + 6) {
        ret = gnutls_record_recv(session, buf + got, sizeof(buf) - got);
        if (ret < 0 && !gnutls_error_is_fatal(ret))
            continue;
        if (ret <= 0)
            return 5;
        got += ret;
    }
    gnutls_bye(session, GNUTLS_SHUT_RDWR);
    return 0;
}
"""

# OpenSSL, linked statically: SSL_write/SSL_read in the executable itself,
# as some builds of node or nginx have them
OPENSSL_CLIENT_C = CLIENT_PRELUDE + r"""
#include <openssl/ssl.h>

int main(int argc, char **argv)
{
    const char *marker = argv[2];
    char buf[4096];
    int fd = connect_when_told(argv[1]), n, got = 0;
    SSL_CTX *ctx;
    SSL *ssl;

    if (fd < 0)
        return 2;
    ctx = SSL_CTX_new(TLS_client_method());
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1)
        return 3;
    if (SSL_write(ssl, marker, strlen(marker)) != (int)strlen(marker))
        return 4;
    while (got < (int)strlen(marker) + 6) {
        n = SSL_read(ssl, buf + got, sizeof(buf) - got);
        if (n <= 0)
            return 5;
        got += n;
    }
    SSL_shutdown(ssl);
    return 0;
}
"""

# NSS: SSL_ImportFD, then PR_Write/PR_Read on the SSL socket (its own
# connect, through NSPR)
NSS_CLIENT_C = r"""
#include <nss.h>
#include <ssl.h>
#include <prio.h>
#include <prnetdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static SECStatus trust_any(void *arg, PRFileDesc *fd, PRBool checksig, PRBool isServer)
{
    return SECSuccess;          /* the test's self-signed certificate */
}

int main(int argc, char **argv)
{
    const char *marker = argv[2];
    char buf[4096], go[8];
    PRNetAddr addr;
    PRFileDesc *fd;
    int got = 0, n;

    if (!fgets(go, sizeof(go), stdin))
        return 1;
    if (NSS_NoDB_Init(NULL) != SECSuccess || NSS_SetDomesticPolicy() != SECSuccess)
        return 2;
    fd = SSL_ImportFD(NULL, PR_NewTCPSocket());
    if (!fd)
        return 3;
    SSL_OptionSet(fd, SSL_SECURITY, PR_TRUE);
    SSL_OptionSet(fd, SSL_HANDSHAKE_AS_CLIENT, PR_TRUE);
    SSL_SetURL(fd, "localhost");
    SSL_AuthCertificateHook(fd, trust_any, NULL);
    PR_InitializeNetAddr(PR_IpAddrLoopback, atoi(argv[1]), &addr);
    if (PR_Connect(fd, &addr, PR_INTERVAL_NO_TIMEOUT) != PR_SUCCESS)
        return 4;
    if (SSL_ForceHandshake(fd) != SECSuccess)
        return 5;
    if (PR_Write(fd, marker, strlen(marker)) != (int)strlen(marker))
        return 6;
    while (got < (int)strlen(marker) + 6) {
        n = PR_Read(fd, buf + got, sizeof(buf) - got);
        if (n <= 0)
            return 7;
        got += n;
    }
    PR_Close(fd);
    NSS_Shutdown();
    return 0;
}
"""

# client: (source, a file it needs, gcc's flags)
CLIENTS = {
    "gnutls": (GNUTLS_CLIENT_C, "/usr/include/gnutls/gnutls.h", ["-lgnutls"]),
    "nss": (NSS_CLIENT_C, "/usr/include/nss/ssl.h",
            ["-I/usr/include/nss", "-I/usr/include/nspr", "-lnss3", "-lssl3", "-lnspr4"]),
    "openssl-static": (OPENSSL_CLIENT_C, "/usr/include/openssl/ssl.h",
                       ["-Wl,-Bstatic", "-lssl", "-lcrypto", "-Wl,-Bdynamic", "-lpthread"]),
}


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d / "key.pem",
                    "-out", d / "cert.pem", "-days", "2", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    return str(d / "cert.pem"), str(d / "key.pem")


def tls_pair(cert, marker, late=False):
    """The pair in a child; ``late``: it loads OpenSSL only when told to start."""
    code = "import sys\nsys.stdin.readline()\n" + TLS_PAIR.replace("sys.stdin.readline()\n", "") \
        if late else TLS_PAIR
    return subprocess.Popen([sys.executable, "-c", code, *cert, marker],
                            stdin=subprocess.PIPE, text=True)


def tls_server(cert):
    """The server alone, in a child; returns (child, port)."""
    code = TLS_SERVER + "print(listener.getsockname()[1], flush=True)\nserve()\n"
    child = subprocess.Popen([sys.executable, "-c", code, *cert], stdout=subprocess.PIPE,
                             text=True)
    return child, int(child.stdout.readline())


def run_pair(child):
    child.communicate("go\n", timeout=30)
    assert child.returncode == 0


def events_of(lines, pid):
    """(header fields, data lines) of each event line of ``pid``."""
    out = []
    for i, ln in enumerate(lines):
        f = ln.split()
        if len(f) >= 5 and f[0] in ("READ/RECV", "WRITE/SEND", "HANDSHAKE") and f[3] == str(pid):
            data = []
            if i + 1 < len(lines) and lines[i + 1] == "----- DATA -----":
                for d in lines[i + 2:]:
                    if d.startswith("----- END DATA"):
                        break
                    data.append(d)
            out.append((f, data))
    return out


def test_sslsniff_shows_reads_and_writes_in_plain_text(cert):
    marker = "pybcc-sslsniff-marker-7731"
    reply = "reply " + marker
    child = tls_pair(cert, marker)
    with RunningTool("sslsniff", "-p", child.pid, ready="FUNC") as t:
        assert t.lines[0].split() == ["FUNC", "TIME(s)", "COMM", "PID", "LEN"]
        run_pair(child)
        t.wait_for(lambda ln: len([e for e in events_of(t.lines, child.pid)
                                   if e[1]]) >= 4)
    assert t.proc.returncode == 0, t.stderr       # Ctrl-C: a clean exit
    evs = events_of(t.lines, child.pid)
    seen = sorted((f[0], int(f[4]), "\n".join(d)) for f, d in evs)
    assert seen == sorted([("WRITE/SEND", len(marker), marker),
                           ("READ/RECV", len(marker), marker),
                           ("WRITE/SEND", len(reply), reply),
                           ("READ/RECV", len(reply), reply)]), t.stdout
    for f, _ in evs:
        assert f[2] == "python3" and float(f[1]) >= 0, t.stdout
    # bcc's layout: the line, the data between marks, then two blank lines
    i = t.lines.index(marker)
    assert t.lines[i - 1] == "----- DATA -----" and t.lines[i + 1] == "----- END DATA -----"
    assert t.lines[i + 2] == "" and t.lines[i + 3] == ""


def test_sslsniff_pid_that_loads_openssl_later(cert):
    """-p with OpenSSL not mapped yet: the system's library, whose probes
    cover the mapping the process makes later."""
    marker = "pybcc-sslsniff-late-9001"
    child = tls_pair(cert, marker, late=True)
    with RunningTool("sslsniff", "-p", child.pid, ready="FUNC") as t:
        run_pair(child)
        t.wait_for(lambda ln: len([e for e in events_of(t.lines, child.pid) if e[1]]) >= 4)
    assert sorted(f[0] for f, d in events_of(t.lines, child.pid) if marker in "\n".join(d)) == \
        ["READ/RECV", "READ/RECV", "WRITE/SEND", "WRITE/SEND"], t.stdout


def test_sslsniff_latency_handshake_extra_columns(cert):
    marker = "pybcc-sslsniff-latency-5120"
    child = tls_pair(cert, marker)
    with RunningTool("sslsniff", "-p", child.pid, "-x", "-l", "--handshake", "--hexdump",
                     ready="FUNC") as t:
        assert t.lines[0].split() == ["FUNC", "TIME(s)", "COMM", "PID", "LEN", "UID", "TID",
                                      "LAT(ms)"]
        run_pair(child)
        t.wait_for(lambda ln: len(events_of(t.lines, child.pid)) >= 6)
    evs = events_of(t.lines, child.pid)
    handshakes = [f for f, _ in evs if f[0] == "HANDSHAKE"]
    assert len(handshakes) == 2, t.stdout     # client and server
    tids = set()
    for f, _ in evs:
        assert f[5] == "0" and 0 <= float(f[7]) < 5000, t.stdout   # UID, LAT(ms)
        tids.add(f[6])
    assert len(tids) == 2 and str(child.pid) in tids, t.stdout     # client thread, server thread
    assert all(f[4] == "0" for f in handshakes), t.stdout
    # --hexdump: 32 hex digits a line
    sent = [d for f, d in evs if f[0] == "WRITE/SEND" and f[4] == str(len(marker))]
    assert len(sent) == 1 and "".join(sent[0]) == marker.encode().hex(), t.stdout
    assert [len(x) for x in sent[0]] == [32, 22], t.stdout


def test_sslsniff_json_hexdump_and_truncation(cert):
    marker = "pybcc-sslsniff-json-" + "x" * 40
    child = tls_pair(cert, marker)
    with RunningTool("sslsniff", "--json", "-c", "python3", "-u", "0", "--hexdump",
                     "--max-buffer-size", "20", ready="FUNC") as t:
        run_pair(child)
        t.wait_for_record(lambda r: r["pid"] == child.pid and r["func"] == "READ/RECV"
                          and r["len"] == len(marker) + 6)
    mine = [r for r in t.json_records() if r["pid"] == child.pid]
    writes = [r for r in mine if r["func"] == "WRITE/SEND" and r["len"] == len(marker)]
    assert len(writes) == 1, mine
    w = writes[0]
    assert w["comm"] == "python3" and w["data"] == marker[:20].encode().hex()
    assert w["truncated"] == len(marker) - 20 and w["time_s"] >= 0
    assert set(w) == {"func", "time_s", "comm", "pid", "len", "data", "truncated"}


def test_sslsniff_no_openssl_sees_nothing_of_python(cert):
    child = tls_pair(cert, "pybcc-sslsniff-none")
    with RunningTool("sslsniff", "--no-openssl", ready="FUNC") as t:
        run_pair(child)
        t.wait_for(lambda ln: False, timeout=1)
    assert events_of(t.lines, child.pid) == [], t.stdout


def test_sslsniff_uid_filter(cert):
    child = tls_pair(cert, "pybcc-sslsniff-uid")
    with RunningTool("sslsniff", "-p", child.pid, "-u", "12345", ready="FUNC") as t:
        run_pair(child)
        t.wait_for(lambda ln: False, timeout=1)
    assert events_of(t.lines, child.pid) == [], t.stdout     # the child runs as root


def test_sslsniff_debug_prints_the_program_and_the_probes():
    r = run_tool("sslsniff", "-d", "--no-gnutls", "--no-nss", "--duration", "0.5")
    assert r.returncode == 0, r.stderr
    assert "BPF_UPROBE(rw_ex_enter" in r.stdout, r.stdout
    assert "SSL_read_ex" in r.stderr and "pybcc: attached uretprobe" in r.stderr, r.stderr
    assert "gnutls" not in r.stderr, r.stderr


def test_sslsniff_without_libraries_says_so(cert):
    r = run_tool("sslsniff", "-o", "-g", "-n")
    assert_one_line_error(r, "no TLS library function to trace", code=1)


@pytest.mark.parametrize("library", sorted(CLIENTS))
def test_sslsniff_gnutls_nss_and_static_openssl_clients(library, cert, tmp_path):
    source, header, flags = CLIENTS[library]
    if not os.path.exists(header):
        pytest.skip(f"{header} is missing (scripts/setup.sh installs libgnutls28-dev, "
                    f"libnss3-dev, libssl-dev)")
    (tmp_path / "client.c").write_text(source)
    subprocess.run(["gcc", "-O1", "-o", tmp_path / "client", tmp_path / "client.c", *flags],
                   check=True)
    marker = f"pybcc-sslsniff-{library}-4242"
    server, port = tls_server(cert)
    client = subprocess.Popen([tmp_path / "client", str(port), marker], stdin=subprocess.PIPE,
                              text=True)
    try:
        with RunningTool("sslsniff", "-p", client.pid, "-x", ready="FUNC") as t:
            client.communicate("go\n", timeout=30)
            assert client.returncode == 0
            t.wait_for(lambda ln: len(events_of(t.lines, client.pid)) >= 2)
    finally:
        server.wait(10)
    evs = events_of(t.lines, client.pid)
    assert sorted((f[0], int(f[4]), "\n".join(d)) for f, d in evs) == [
        ("READ/RECV", len(marker) + 6, "reply " + marker),
        ("WRITE/SEND", len(marker), marker)], t.stdout
    assert all(f[2] == "client" and f[6] == str(client.pid) for f, _ in evs), t.stdout


@pytest.mark.parametrize("args", [["-p", "x"], ["-p", "999999999"], ["-u", "-1"],
                                  ["--max-buffer-size", "0"], ["--max-buffer-size", "100000"],
                                  ["--extra-lib", "foo:/bin/true"], ["--extra-lib", "openssl"],
                                  ["--extra-lib", "openssl:/nonexistent"]])
def test_sslsniff_bad_input(args):
    bad_input("sslsniff", *args)
