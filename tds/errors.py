"""The root of every error TDS raises on purpose.

Callers catch :class:`TDSError` to tell our own, explained failures from
bugs. Each subclass says in its message what the operator should do.
"""


class TDSError(Exception):
    """An error TDS raised knowingly, with a message saying what to do."""
