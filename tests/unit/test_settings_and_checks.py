import os
import subprocess
import sys

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from counter.embedded import masked_url
from tests.servers import REPO
from visitorsite import data_directory, environment


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = data_directory.persistent_secret_key(tmp_path)
    second = data_directory.persistent_secret_key(tmp_path)
    assert first == second
    assert len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_secret_keys_differ_between_data_dirs(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = data_directory.persistent_secret_key(tmp_path / "a")
    assert first != data_directory.persistent_secret_key(tmp_path / "b")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("true", True), ("off", False)])
def test_boolean_env(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert environment.env_bool("X_FLAG") is expected


def test_boolean_env_rejects_garbage(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        environment.env_bool("X_FLAG")


def test_debug_is_off_by_default(monkeypatch):
    monkeypatch.delenv("X_UNSET", raising=False)
    assert environment.env_bool("X_UNSET") is False


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        # Counts are whole: a fraction is refused, never truncated (0.5 days was 0).
        (lambda env: environment.env_count("X_N", 5, environ=env), "0.5",
         "X_N must be a whole number, got '0.5'"),
        (lambda env: environment.env_count("X_N", 5, environ=env), "0",
         "X_N must be 1 or more, got '0'"),
        (lambda env: environment.env_count("X_N", 0, low=0, environ=env), "-1",
         "X_N must be 0 or more, got '-1'"),
        (lambda env: environment.env_float("X_N", 1.0, environ=env), "nan",
         "X_N must be a positive number, got 'nan'"),
        (lambda env: environment.env_float("X_N", 1.0, environ=env), "inf",
         "X_N must be a positive number, got 'inf'"),
        (lambda env: environment.env_choice("X_N", "a", ("a", "b"), environ=env), "c",
         "X_N must be a or b, got 'c'"),
        (lambda env: environment.env_networks("X_N", environ=env), "host",
         "X_N: 'host' is not an address"),
    ],
)  # fmt: skip
def test_a_bad_value_is_one_line_naming_the_variable(reader, value, message):
    with pytest.raises(ImproperlyConfigured) as raised:
        reader({"X_N": value})
    assert str(raised.value) == message


def test_readers_take_the_default_when_unset_and_read_the_environment_by_default(monkeypatch):
    assert environment.env_count("X_N", 7, environ={}) == 7
    assert environment.env_count("X_N", 7, environ={"X_N": " 3 "}) == 3
    monkeypatch.setenv("X_N", "4")
    assert environment.env_count("X_N", 7) == 4


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("COUNTER_RETENTION_DAYS", "0.5", "COUNTER_RETENTION_DAYS must be a whole number"),
        ("STORE_RETRY_AFTER", "0.5", "STORE_RETRY_AFTER must be a whole number"),
        ("LIVE_STREAMS_PER_CLIENT", "-1", "LIVE_STREAMS_PER_CLIENT must be 0 or more"),
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS must be a whole number"),
        ("REDIS_TIMEOUT", "nan", "REDIS_TIMEOUT must be a positive number"),
    ],
)
def test_settings_refuse_a_bad_number_naming_it(tmp_path, variable, value, message):
    environment_ = {
        "PATH": os.environ.get("PATH", ""),
        "DATA_DIR": str(tmp_path),
        variable: value,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import visitorsite.settings"],
        cwd=REPO,
        env=environment_,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


def test_check_refuses_a_non_redis_counting_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [e.id for e in run_checks()] == ["counter.E001"]


def test_check_refuses_ignored_exceptions(settings):
    settings.CACHES["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"] = True
    assert [e.id for e in run_checks()] == ["counter.E002"]


def test_masked_url_hides_the_password():
    assert masked_url("redis://:s3cret@redis:6379/0") == "redis://:***@redis:6379/0"
    assert masked_url("redis://user:s3cret@redis/0") == "redis://user:***@redis/0"
    assert masked_url("redis://redis:6379/0") == "redis://redis:6379/0"
