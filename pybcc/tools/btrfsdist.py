"""btrfsdist: summarize btrfs operation latency (bcc's tool: fsdist -t btrfs with bcc's flags and output)."""
from .fsdist import bcc_tool

main = bcc_tool("btrfs")
