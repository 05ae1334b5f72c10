"""TDS: keeps a Postgres database in step with a Zoho Books organization."""

__version__ = "0.1.0"
