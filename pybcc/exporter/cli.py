"""`pybcc exporter`: always-on BPF metrics for Prometheus."""
import argparse
import os
import sys

from . import builtin, server

EPILOG = f"""built-in sets: {', '.join(sorted(builtin.SETS))}
default (no --config): {', '.join(builtin.DEFAULT_SETS)}

examples:
    pybcc exporter                              # default sets on {server.DEFAULT_LISTEN}
    pybcc exporter --config /etc/pybcc/exporter.yml
    pybcc exporter --listen 0.0.0.0:9435 --web-config web.yml   # TLS/basic auth
    pybcc exporter --config exporter.yml --check    # check the config and exit
    kill -HUP $(pidof pybcc-exporter)           # reload the config
See docs/EXPORTER.md."""


def main(argv=None):
    p = argparse.ArgumentParser(prog="pybcc exporter", epilog=EPILOG,
                                description="Serve in-kernel BPF aggregations as Prometheus metrics.",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="YAML config (sets, custom programs, limits)")
    p.add_argument("--listen", help=f"HOST:PORT to serve /metrics on (default {server.DEFAULT_LISTEN}, "
                                    "or the config's listen:)")
    p.add_argument("--web-config", help="Prometheus web-config file: TLS and basic auth")
    p.add_argument("--no-bpf-stats", action="store_true",
                   help="leave the kernel's BPF run-time stats off (no per-program run count/time "
                        "self-metrics; saves two clock reads per program run)")
    p.add_argument("--check", action="store_true", help="check the config (and compile its programs), then exit")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)

    from . import config, daemon
    if args.check:
        try:
            planned, _ = daemon.plan(args.config)
        except config.ConfigError as e:
            print(f"pybcc exporter: {e}", file=sys.stderr)
            return 2
        print(f"config ok: {', '.join(sorted(planned))}")
        return 0
    if os.geteuid() != 0:
        print("pybcc exporter: needs root (or CAP_BPF and CAP_PERFMON) to load BPF programs",
              file=sys.stderr)
        return 1
    return daemon.run(args.config, args.listen, args.web_config, bpf_stats=not args.no_bpf_stats)
