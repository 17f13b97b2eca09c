"""bcc's tools, rebuilt on pybcc: one module and one .bpf.c per tool."""
