"""Entry point for gunicorn: `gunicorn wsgi:app`."""

from helpdesk import create_app

app = create_app()
