"""Configuration: defaults, environment, overrides, and refusing what cannot work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpdesk import create_app
from helpdesk.config import ConfigurationError, build_config


def test_missing_secret_key_in_production_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="HELPDESK_SECRET_KEY is not set"):
        build_config(environ={})


def test_create_app_refuses_to_start_without_secret(monkeypatch):
    monkeypatch.delenv("HELPDESK_SECRET_KEY", raising=False)
    monkeypatch.delenv("HELPDESK_ENV", raising=False)
    with pytest.raises(ConfigurationError):
        create_app()


@pytest.mark.parametrize("env", ["development", "testing"])
def test_development_and_tests_run_without_secret(env):
    config = build_config(environ={"HELPDESK_ENV": env})
    assert len(config["SECRET_KEY"]) >= 32


def test_environment_overrides_defaults_and_mapping_overrides_environment():
    environ = {
        "HELPDESK_SECRET_KEY": "from-env",
        "HELPDESK_INBOX_PAGE_SIZE": "25",
        "HELPDESK_WORKER_SCHEDULE": "false",
    }
    config = build_config({"INBOX_PAGE_SIZE": 10}, environ=environ)
    assert config["SECRET_KEY"] == "from-env"
    assert config["INBOX_PAGE_SIZE"] == 10
    assert config["WORKER_SCHEDULE"] is False
    assert build_config(environ=environ)["INBOX_PAGE_SIZE"] == 25


def test_default_store_is_sqlite_in_instance_folder():
    uri = build_config(environ={"HELPDESK_SECRET_KEY": "x"})["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("instance/helpdesk.sqlite")


@pytest.mark.parametrize("url", ["postgres://u@h/db", "postgresql://u@h/db"])
def test_database_url_chooses_postgresql_with_psycopg3(url):
    config = build_config(environ={"HELPDESK_SECRET_KEY": "x", "DATABASE_URL": url})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_bad_sqlite_synchronous_is_refused():
    with pytest.raises(ConfigurationError, match="SQLITE_SYNCHRONOUS"):
        build_config(environ={"HELPDESK_SECRET_KEY": "x", "HELPDESK_SQLITE_SYNCHRONOUS": "FAST;"})


def test_cli_says_how_to_fix_a_missing_secret(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    done = subprocess.run([sys.executable, "-m", "helpdesk", "stats"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("Error: HELPDESK_SECRET_KEY is not set.")
    assert "Traceback" not in done.stderr
