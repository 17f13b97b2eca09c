"""Lazy package exports: a package names where each public name lives, and
the module holding it is imported on first use (PEP 562 ``__getattr__``), so
importing the package costs nothing for the names a caller does not touch."""
import importlib


def lazy_getattr(package, where):
    """A module ``__getattr__`` for ``package`` that finds ``name`` in the
    submodule ``where[name]``."""
    def __getattr__(name):
        mod = where.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{mod}"), name)
    return __getattr__


class LazyLogger:
    """logging.getLogger(name), with the logging package (~8 ms, traceback,
    string, ...) imported only when something is logged."""

    def __init__(self, name):
        self._name = name
        self._logger = None

    def __getattr__(self, attr):
        if self._logger is None:
            import logging
            self._logger = logging.getLogger(self._name)
        return getattr(self._logger, attr)
