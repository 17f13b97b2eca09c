#!/usr/bin/python3
"""opensnoop-like tool on bcc (python3-bpfcc) using tracepoints only.

bcc's own opensnoop needs fentry or kprobes, neither of which this kernel
allows; this script measures bcc's compile-at-start and perf-buffer output
path with the same shape of work: enter stores the path, exit emits one
event per open through a perf buffer (64 pages per CPU, like opensnoop).
Usage: bcc_opensnoop_tp.py [-p PID]
"""
import argparse
import sys

from bcc import BPF

PROG = r"""
#define COMM_LEN 16
#define PATH_LEN 255
struct val_t { u64 id; const char *fname; };
struct data_t { u32 pid; int ret; char comm[COMM_LEN]; char fname[PATH_LEN]; };
BPF_HASH(infotmp, u64, struct val_t);
BPF_PERF_OUTPUT(events);

TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
    u64 id = bpf_get_current_pid_tgid();
    if (TARGET_PID && (id >> 32) != TARGET_PID)
        return 0;
    struct val_t val = {.id = id, .fname = args->filename};
    infotmp.update(&id, &val);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_openat) {
    u64 id = bpf_get_current_pid_tgid();
    struct val_t *valp = infotmp.lookup(&id);
    if (valp == 0)
        return 0;
    struct data_t data = {};
    data.pid = id >> 32;
    data.ret = args->ret;
    bpf_get_current_comm(&data.comm, sizeof(data.comm));
    bpf_probe_read_user_str(&data.fname, sizeof(data.fname), valp->fname);
    events.perf_submit(args, &data, sizeof(data));
    infotmp.delete(&id);
    return 0;
}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--pid", type=int, default=0)
    ap.add_argument("-b", "--buffer-pages", type=int, default=64)
    args = ap.parse_args()
    b = BPF(text=PROG.replace("TARGET_PID", str(args.pid)))
    lost = [0]

    def on_event(cpu, data, size):
        e = b["events"].event(data)
        fd, err = (e.ret, 0) if e.ret >= 0 else (-1, -e.ret)
        print("%-6d %-16s %4d %3d %s" % (e.pid, e.comm.decode("utf-8", "replace"), fd, err,
                                         e.fname.decode("utf-8", "replace")), flush=True)

    def on_lost(count):
        lost[0] += count
        print("Possibly lost %d samples" % count, file=sys.stderr)

    b["events"].open_perf_buffer(on_event, page_cnt=args.buffer_pages, lost_cb=on_lost)
    print("%-6s %-16s %4s %3s %s" % ("PID", "COMM", "FD", "ERR", "PATH"), flush=True)
    while True:
        try:
            b.perf_buffer_poll()
        except KeyboardInterrupt:
            break


if __name__ == "__main__":
    main()
