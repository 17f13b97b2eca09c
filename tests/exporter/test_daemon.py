"""`pybcc exporter` end to end against the real kernel: exact activity in a
cgroup of our own, label decoding, custom programs, self-metrics, limits,
Accept negotiation, reload, TLS/basic auth, and SIGKILL cleanup."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from pybcc.exporter.decoders import tracepoint_symbols

from .running import (WORKTREE, Cgroup, Exporter, bad_lseeks, matching, memory_cgroup, oom_kill,
                      tls_context, value, wait_until)

pytestmark = pytest.mark.usefixtures("root")
HERE = os.path.dirname(os.path.abspath(__file__))
LSEEK_PROGRAM = f"""
programs:
  - name: lseeks
    source: {HERE}/bpf/lseek_probe.bpf.c
    metrics:
      counters:
        - name: test_lseeks_total
          help: lseek calls
          map: calls
          labels:
            - {{name: comm, field: comm, decoder: string}}
            - {{name: whence, field: whence, decoder: {{static_map: {{0: set, 1: cur, 2: end}}}}}}
      histograms:
        - name: test_lseek_offset_bytes
          map: offsets
          unit: bytes
          labels:
            - {{name: comm, field: comm, decoder: string}}
            - {{name: whence, field: whence, decoder: uint}}
        - name: test_lseek_offset_slots_bytes
          map: offset_slots
          unit: bytes
          bucket_field: slot
          labels:
            - {{name: comm, field: comm, decoder: string}}
            - {{name: whence, field: whence, decoder: uint}}
"""


def loopback_connects(n):
    """``n`` TCP connects to a listener of ours; returns its port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(n)
    port = srv.getsockname()[1]
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = srv.accept()
        a.close()
        c.close()
    srv.close()
    return port


def refused_connects(n):
    """``n`` connects to a port nobody listens on: the kernel drops each SYN
    (reason NO_SOCKET) and answers with a reset."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))       # reserved, never listening
    port = closed.getsockname()[1]
    for _ in range(n):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
        except ConnectionRefusedError:
            pass
    closed.close()


def named_execs(tmp_path, name, n):
    exe = tmp_path / name
    shutil.copy("/bin/true", exe)
    for _ in range(n):
        subprocess.run([str(exe)], check=True)


def test_known_activity_is_counted_exactly_and_unservable_set_is_reported(tmp_path):
    config = """
sets:
  syscalls: {by_cgroup: true, cgroup_regex: "^/pybcc-exp-"}
  process: {}
  tcp: {}
  page_cache: {}
  run_queue: {}
  irq: {}
""" + LSEEK_PROGRAM
    offsets = [0, 1, 2, 3, 4, 7, 8, 4095, 4096, 65535, 65536, 1 << 30]
    with Exporter(tmp_path, config) as exp, Cgroup(f"pybcc-exp-{os.getpid()}") as cg:
        bad_lseeks(cg, offsets * 3)
        named_execs(tmp_path, "pybccexptrue", 5)
        port = loopback_connects(20)
        refused_connects(10)
        s = wait_until(lambda: (lambda s: s if value(
            s, "pybcc_tcp_accepts_total", family="ipv4", port=str(port)) >= 20 else None)(
            exp.samples()), timeout=10) or exp.samples()

        # syscalls: errno and syscall names, cgroup path, exact count in our cgroup
        assert value(s, "pybcc_syscall_errors_total", syscall="lseek", errno="EBADF",
                     cgroup=cg.label, container_id="") == 3 * len(offsets)
        cgroups = {lb["cgroup"] for lb, _ in matching(s, "pybcc_syscalls_total")}
        assert cgroups and all(c.startswith("/pybcc-exp-") for c in cgroups), cgroups
        # process execs/exits by comm
        assert value(s, "pybcc_process_execs_total", comm="pybccexptrue") == 5
        assert value(s, "pybcc_process_exits_total", comm="pybccexptrue") == 5
        # TCP: connects by remote port, accepts by local port, state names
        assert value(s, "pybcc_tcp_connects_total", family="ipv4", port=str(port)) == 20
        assert value(s, "pybcc_tcp_accepts_total", family="ipv4", port=str(port)) == 20
        assert value(s, "pybcc_tcp_state_transitions_total",
                     old_state="SYN_SENT", new_state="ESTABLISHED") >= 20
        # drops by the kernel's own reason names (kfree_skb has them since 5.17)
        if tracepoint_symbols("skb", "kfree_skb", "reason"):
            assert value(s, "pybcc_tcp_drops_total", reason="NO_SOCKET") >= 10

        # the custom program: counter with a static_map decoder, both histogram layouts
        assert value(s, "test_lseeks_total", comm="pybccexplseek", whence="set") == 3 * len(offsets)
        for name in ("test_lseek_offset_bytes", "test_lseek_offset_slots_bytes"):
            ours = dict(comm="pybccexplseek", whence="0")
            assert value(s, name + "_count", **ours) == 3 * len(offsets)
            for lb, n in matching(s, name + "_bucket", **ours):
                le = float(lb["le"])
                assert n == 3 * sum(1 for o in offsets if o <= le), (name, le, n)
        assert value(s, "test_lseek_offset_bytes_sum", **ours) == 3 * sum(offsets)

        # per-CPU maps summed over CPUs: a histogram whose buckets only grow, IRQ totals
        rq = sorted((float(lb["le"]), n) for lb, n in matching(s, "pybcc_run_queue_latency_seconds_bucket"))
        assert len(rq) == 27 and rq[-1][1] == value(s, "pybcc_run_queue_latency_seconds_count") > 0
        assert all(a[1] <= b[1] for a, b in zip(rq, rq[1:])), rq
        assert value(s, "pybcc_run_queue_latency_seconds_sum") > 0
        timer = value(s, "pybcc_softirqs_total", vector="timer")
        assert timer > 0 and value(s, "pybcc_softirq_seconds_total", vector="timer") > 0

        # page cache needs fentry or kprobes: where the kernel has neither it is
        # reported and the other sets run
        if value(s, "pybcc_exporter_set_up", set="page_cache") == 0:
            errors = matching(s, "pybcc_exporter_set_error_info", set="page_cache")
            assert errors and "fentry" in errors[0][0]["error"], errors
            assert "set page_cache: the kernel cannot serve it" in exp.stderr
        else:
            assert value(s, "pybcc_page_cache_misses_total") >= 0

        # self-metrics
        assert value(s, "pybcc_exporter_set_up", set="syscalls") == 1
        assert value(s, "pybcc_exporter_programs_attached", set="syscalls") == 1
        drop_reasons = bool(tracepoint_symbols("skb", "kfree_skb", "reason"))    # 5.17+
        assert value(s, "pybcc_exporter_programs_attached", set="tcp") == 2 + drop_reasons
        assert value(s, "pybcc_exporter_bpf_stats_enabled") == 1
        runs = matching(s, "pybcc_exporter_bpf_program_runs_total", set="syscalls")
        assert runs and runs[0][1] > 0, runs
        assert matching(s, "pybcc_exporter_bpf_program_run_seconds_total", set="syscalls")[0][1] > 0
        assert value(s, "pybcc_exporter_lost_events_total", set="tcp") == 0
        assert value(s, "pybcc_exporter_decode_errors_total", set="tcp",
                     metric="pybcc_tcp_drops_total") == 0
        assert value(s, "process_resident_memory_bytes") > 10e6
        assert value(s, "process_cpu_seconds_total") > 0
        assert matching(s, "pybcc_exporter_collect_duration_seconds", set="tcp")


def test_custom_program_in_the_bcc_dialect(tmp_path):
    config = f"""
programs:
  - name: kills
    dialect: bcc
    source: {HERE}/bpf/kill_counter.c
    metrics:
      counters:
        - name: test_kills_total
          map: kills
          labels:
            - {{name: comm, field: comm, decoder: string}}
            - {{name: signal, field: sig, decoder: {{static_map: {{0: probe}}}}}}
      histograms:
        - name: test_kill_pid_log2
          map: pids
          bucket_field: key
"""
    with Exporter(tmp_path, config) as exp:
        code = "import os\nfor _ in range(7): os.kill(os.getpid(), 0)"
        child = subprocess.Popen([sys.executable, "-c",
                                  "open('/proc/self/comm', 'w').write('pybcckiller')\n" + code])
        assert child.wait(30) == 0
        s = exp.samples()
        assert value(s, "test_kills_total", comm="pybcckiller", signal="probe") == 7
        assert value(s, "pybcc_exporter_programs_attached", set="kills") == 1
        # the pids histogram: bcc's bpf_log2l slots; our pid is in the bucket
        # le = 2^i - 1 with 2^(i-1) <= pid, and not in the one before
        assert value(s, "test_kill_pid_log2_count") >= 7
        cumulative = dict((float(lb["le"]), n) for lb, n in matching(s, "test_kill_pid_log2_bucket"))
        i = child.pid.bit_length()
        assert cumulative[(1 << i) - 1] - cumulative[(1 << (i - 1)) - 1] >= 7, cumulative


def test_oom_kills_are_counted_by_victim_comm(tmp_path):
    with Exporter(tmp_path, "sets: [oom]\n") as exp:
        path = memory_cgroup(f"pybcc-exp-oom{os.getpid()}")
        try:
            oom_kill(path, "pybccoomhog")
            oom_kill(path, "pybccoomhog")
        finally:
            wait_until(lambda: _try_rmdir(path), timeout=10)
        s = exp.samples()
        assert value(s, "pybcc_oom_kills_total", comm="pybccoomhog") == 2


def _try_rmdir(path):
    try:
        os.rmdir(path)
        return True
    except OSError:
        return False


def test_accept_header_negotiation_and_concurrent_scrapes(tmp_path):
    with Exporter(tmp_path, "sets: [syscalls, irq]\n") as exp:
        status, ctype, body = exp.scrape(accept="application/openmetrics-text; version=1.0.0")
        assert status == 200 and ctype.startswith("application/openmetrics-text"), ctype
        assert body.endswith("# EOF\n")
        status, ctype, body = exp.scrape()
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), ctype
        for bad in ("", "garbage", ";;;", "application/openmetrics-text; version=x; q=;;",
                    "*/*;q=abc, text/html", "\x7f\x01"):
            status, ctype, body = exp.scrape(accept=bad)
            assert status == 200 and "pybcc_syscalls_total" in body, (bad, status, ctype)

        results = []

        def scraper():
            for _ in range(5):
                st, _, b = exp.scrape()
                results.append(st == 200 and "pybcc_exporter_set_up" in b)
        threads = [threading.Thread(target=scraper) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(results) == 40 and all(results)
        assert exp.proc.poll() is None


def test_reload_keeps_counters_of_unchanged_sets(tmp_path):
    first = 'sets:\n  syscalls: {by_cgroup: true, cgroup_regex: "^/pybcc-exp-"}\n  process: {}\n'
    with Exporter(tmp_path, first) as exp, Cgroup(f"pybcc-exp-r{os.getpid()}") as cg:
        bad_lseeks(cg, range(10))
        named_execs(tmp_path, "pybccexpreload", 2)
        s = exp.samples()
        lseeks = dict(syscall="lseek", errno="EBADF", cgroup=cg.label, container_id="")
        assert value(s, "pybcc_syscall_errors_total", **lseeks) == 10
        assert value(s, "pybcc_process_execs_total", comm="pybccexpreload") == 2

        # syscalls unchanged, process changed, oom added
        exp.config.write_text(first.replace("process: {}", "process: {top_comm: 5}") + "  oom: {}\n")
        exp.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "reloaded" in exp.stderr), exp.stderr
        bad_lseeks(cg, range(5))
        s = exp.samples()
        assert value(s, "pybcc_syscall_errors_total", **lseeks) == 15      # kept counting
        assert value(s, "pybcc_process_execs_total", comm="pybccexpreload") == 0   # restarted
        assert value(s, "pybcc_exporter_set_up", set="oom") == 1
        assert value(s, "pybcc_exporter_reloads_total", result="success") == 1

        # a bad config on reload: reported with file:line, the running config stays
        exp.config.write_text(first + "  nosuchset: {}\n")
        exp.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "reload failed" in exp.stderr), exp.stderr
        assert f"{exp.config}:4: no metric set 'nosuchset'" in exp.stderr
        s = exp.samples()
        assert value(s, "pybcc_exporter_reloads_total", result="failure") == 1
        assert value(s, "pybcc_syscall_errors_total", **lseeks) == 15
        assert value(s, "pybcc_exporter_set_up", set="oom") == 1


def test_series_caps_count_what_they_drop(tmp_path):
    config = """
sets:
  syscalls: {by_cgroup: true, max_series: 3, max_entries: 8}
  process: {top_comm: 2}
"""
    with Exporter(tmp_path, config) as exp:
        for i in range(4):
            named_execs(tmp_path, f"pybccexpcap{i}", 1)
        time.sleep(0.3)
        s = exp.samples()
        assert len(matching(s, "pybcc_syscalls_total")) == 3
        assert value(s, "pybcc_exporter_series_dropped", set="syscalls",
                     metric="pybcc_syscalls_total") > 0
        # the kernel map holds 8 (cgroup, syscall, errno) keys: the rest are lost, and counted
        assert value(s, "pybcc_exporter_lost_events_total", set="syscalls") > 0
        comms = {lb["comm"] for lb, _ in matching(s, "pybcc_process_execs_total")}
        assert len(comms) <= 3 and "other" in comms, comms


def _prog_ids(pid):
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def _prog_exists(prog_id):
    from pybcc.errors import BPFError
    from pybcc.kernel import bpf
    from pybcc.kernel.uapi import Cmd
    try:
        os.close(bpf.fd_by_id(Cmd.PROG_GET_FD_BY_ID, prog_id))
        return True
    except BPFError:
        return False


def test_sigkill_leaves_nothing_attached(tmp_path):
    with Exporter(tmp_path, "sets: [syscalls, tcp, process, run_queue]\n") as exp:
        ids = _prog_ids(exp.proc.pid)
        assert len(ids) >= 7, ids      # syscalls 1, tcp 3, process 2, run_queue 1 (or 3)
        assert all(_prog_exists(i) for i in ids)
        exp.proc.send_signal(signal.SIGKILL)
        exp.proc.wait(10)
    assert wait_until(lambda: not any(_prog_exists(i) for i in ids), timeout=10), \
        [i for i in ids if _prog_exists(i)]


def test_tls_and_basic_auth_from_web_config(tmp_path):
    bcrypt = pytest.importorskip("bcrypt")
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a certificate")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()
    (tmp_path / "web.yml").write_text(
        f"tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
        f"basic_auth_users:\n  prom: '{hashed}'\n")
    with Exporter(tmp_path, "sets: [oom]\n", args=["--web-config", str(tmp_path / "web.yml")],
                  scheme="https") as exp:
        ctx = tls_context()
        assert exp.scrape(context=ctx)[0] == 401
        assert exp.scrape(context=ctx, auth=("prom", "wrong"))[0] == 401
        status, _, body = exp.scrape(context=ctx, auth=("prom", "s3cret"))
        assert status == 200 and "pybcc_exporter_set_up" in body


def test_bad_web_config_and_listen_fail_at_start_with_one_line(tmp_path):
    (tmp_path / "web.yml").write_text("tls_server_config:\n  cert_file: nope.pem\n")
    for args, expect in (
            (["--web-config", str(tmp_path / "web.yml")], f"{tmp_path / 'web.yml'}:2: "),
            (["--listen", "localhost"], "bad listen address 'localhost'")):
        r = subprocess.run([sys.executable, "-m", "pybcc", "exporter", *args],
                           capture_output=True, text=True, cwd=WORKTREE, timeout=60)
        assert r.returncode == 2, r.stderr
        assert r.stderr.count("\n") == 1 and expect in r.stderr, r.stderr
