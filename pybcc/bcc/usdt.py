"""bcc.usdt: user statically-defined tracing probes. Not implemented yet:
constructing a USDT context raises NotSupportedError."""
from ..errors import NotSupportedError


class USDTException(Exception):
    pass


class USDT:
    def __init__(self, pid=None, path=None):
        raise NotSupportedError("USDT probes are not implemented in pybcc yet",
                                feature="usdt",
                                alternative="a uprobe on the function around the probe "
                                            "(BPF.attach_uprobe)")


class USDTProbe:
    def __init__(self, *args, **kwargs):
        raise NotSupportedError("USDT probes are not implemented in pybcc yet", feature="usdt")
