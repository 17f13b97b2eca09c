"""bcc.version: the version of bcc's Python API that pybcc implements."""
__version__ = "0.35.0"
