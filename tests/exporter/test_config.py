"""A bad config fails with file:line: reason, before anything loads."""
import os
import subprocess
import sys
import textwrap

import pytest

WORKTREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))


def check(tmp_path, text, name="exporter.yml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    r = subprocess.run([sys.executable, "-m", "pybcc", "exporter", "--config", str(path), "--check"],
                       capture_output=True, text=True, cwd=WORKTREE, timeout=120)
    return r, str(path)


@pytest.mark.parametrize("text, line, reason", [
    ("""\
     sets:
       block_io: {}
       blockio: {}
     """, 3, "no metric set 'blockio'"),
    ("""\
     sets:
       process:
         top_comm: many
     """, 3, "process.top_comm: expected int"),
    ("""\
     sets:
       syscalls:
         cgroup_regex: "(unclosed"
     """, 3, "bad regular expression"),
    ("""\
     sets: [tcp]
     max_series: 0
     """, 2, "max_series: must be > 0"),
    ("""\
     sets:
       tcp: {}
     listn: 1.2.3.4:5
     """, 3, "unknown key 'listn'"),
    ("""\
     sets:
       tcp: {}
        oom: {}
     """, 3, ""),                      # YAML syntax
    ("""\
     sets:
       tcp: {}
       tcp: {}
     """, 3, "duplicate key 'tcp'"),
    ("""\
     programs:
       - name: p
         source: nowhere.bpf.c
     """, 3, "no such file"),
])
def test_bad_config_names_file_line_and_reason(tmp_path, text, line, reason):
    r, path = check(tmp_path, text)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith(f"pybcc exporter: {path}:{line}: "), r.stderr
    assert reason in lines[0], r.stderr


def test_custom_program_unknown_decoder_points_at_its_line(tmp_path):
    src = os.path.join(HERE, "bpf", "lseek_probe.bpf.c")
    r, path = check(tmp_path, f"""\
        programs:
          - name: lseeks
            source: {src}
            metrics:
              counters:
                - name: lseeks_total
                  map: calls
                  labels:
                    - name: comm
                      field: comm
                      decoder: strnig
        """)
    assert r.returncode == 2
    assert r.stderr.startswith(f"pybcc exporter: {path}:11: unknown decoder 'strnig'"), r.stderr


def test_good_config_checks_ok(tmp_path):
    r, _ = check(tmp_path, """\
        sets:
          block_io: {}
          syscalls: {by_cgroup: true, cgroup_regex: "^/"}
          process: {top_comm: 10, max_series: 100}
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "config ok: block_io, process, syscalls"


def test_missing_config_file_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pybcc", "exporter", "--config",
                        str(tmp_path / "none.yml"), "--check"],
                       capture_output=True, text=True, cwd=WORKTREE)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "cannot read config" in r.stderr
