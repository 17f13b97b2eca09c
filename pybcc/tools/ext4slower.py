"""ext4slower: trace slow ext4 operations (bcc's tool: fsslower -t ext4 with bcc's flags and output)."""
from .fsslower import bcc_tool

main = bcc_tool("ext4")
