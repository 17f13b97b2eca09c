"""What the tools share: the runtime (BPF object, attach, events, exit),
records decoded from BTF, the interval/report loop, argument helpers, and
the small domain helpers (disks, inet, irqs, stacks, syscalls, probe specs)."""
