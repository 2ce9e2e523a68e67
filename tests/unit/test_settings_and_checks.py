import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from counter.embedded import masked_url
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
