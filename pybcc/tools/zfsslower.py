"""zfsslower: trace slow ZFS operations (bcc's tool: fsslower -t zfs with bcc's flags and output)."""
from .fsslower import bcc_tool

main = bcc_tool("zfs")
