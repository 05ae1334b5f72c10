"""The Celery side of TDS: the app factory, thin tasks, the publisher and the beat schedule."""
