"""The Celery side of TDS: the app, thin tasks and the beat schedule."""
