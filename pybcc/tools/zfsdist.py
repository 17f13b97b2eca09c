"""zfsdist: summarize ZFS operation latency (bcc's tool: fsdist -t zfs with bcc's flags and output)."""
from .fsdist import bcc_tool

main = bcc_tool("zfs")
