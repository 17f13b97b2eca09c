"""nfsslower: trace slow NFS operations (bcc's tool: fsslower -t nfs with bcc's flags and output)."""
from .fsslower import bcc_tool

main = bcc_tool("nfs")
