"""xfsdist: summarize XFS operation latency (bcc's tool: fsdist -t xfs with bcc's flags and output)."""
from .fsdist import bcc_tool

main = bcc_tool("xfs")
