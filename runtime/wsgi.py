"""WSGI entry point for production servers: ``gunicorn 'runtime.wsgi:app'``."""
from runtime.app import create_app

app = create_app()
