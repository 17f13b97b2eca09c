"""nfsdist: summarize NFS operation latency (bcc's tool: fsdist -t nfs with bcc's flags and output)."""
from .fsdist import bcc_tool

main = bcc_tool("nfs")
