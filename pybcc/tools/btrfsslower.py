"""btrfsslower: trace slow btrfs operations (bcc's tool: fsslower -t btrfs with bcc's flags and output)."""
from .fsslower import bcc_tool

main = bcc_tool("btrfs")
