"""``python -m tds.sandbox``: the same as ``tds sandbox serve``."""

from tds.sandbox.cli import serve

serve()
