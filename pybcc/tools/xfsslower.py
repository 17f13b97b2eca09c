"""xfsslower: trace slow XFS operations (bcc's tool: fsslower -t xfs with bcc's flags and output)."""
from .fsslower import bcc_tool

main = bcc_tool("xfs")
