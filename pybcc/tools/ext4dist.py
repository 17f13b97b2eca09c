"""ext4dist: summarize ext4 operation latency (bcc's tool: fsdist -t ext4 with bcc's flags and output)."""
from .fsdist import bcc_tool

main = bcc_tool("ext4")
