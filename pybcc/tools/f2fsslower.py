"""f2fsslower: trace slow f2fs operations (bcc's tool: fsslower -t f2fs with bcc's flags and output)."""
from .fsslower import bcc_tool

main = bcc_tool("f2fs")
