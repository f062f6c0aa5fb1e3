"""Settings are read from the environment and are safe by default.

Each case starts a fresh Python process, because settings are read once at import.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in _SETTINGS_VARS and not k.startswith(("SECURE_", "EMAIL_"))
    }
    clean.update(env, VAR_DIR=str(tmp_path))
    return subprocess.run(  # noqa: S603 - fixed argv, our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


_SETTINGS_VARS = {
    "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL",
    "EMAIL_HOST", "SITE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "MEDIA_URL",
}  # fmt: skip


def production_env() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "news.example.com",
        "SITE_URL": "https://news.example.com",
    }


def test_production_settings_pass_check_deploy(tmp_path):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(),
                        tmp_path=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_debug_off_refuses_to_start_without(missing, tmp_path):
    env = production_env()
    del env[missing]
    result = run_manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_debug_is_off_unless_asked_for(tmp_path):
    code = "from django.conf import settings; print(settings.DEBUG)"
    result = run_manage(
        "shell", "--no-imports", "-c", code, env=production_env(), tmp_path=tmp_path
    )
    assert result.stdout.strip() == "False", result.stderr
    asked = run_manage("shell", "--no-imports", "-c", code, env={"DEBUG": "1"}, tmp_path=tmp_path)
    assert asked.stdout.strip() == "True", asked.stderr


def backends(env: dict[str, str], tmp_path: Path) -> list[str]:
    """The database engine, cache, broker and mail backend a process starts with."""
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE']); "
        "print(settings.CACHES['default']['BACKEND']); "
        "print(settings.CELERY_BROKER_URL); "
        "print(settings.EMAIL_BACKEND)"
    )
    result = run_manage("shell", "--no-imports", "-c", code, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_embedded_defaults_without_environment(tmp_path):
    engine, cache, broker, mail = backends({"DEBUG": "1"}, tmp_path)
    assert engine == "django.db.backends.sqlite3"
    assert cache == "diskcache.DjangoCache"  # one cache on disk, shared by every process
    assert broker == "filesystem://localhost/"
    assert mail.endswith("filebased.EmailBackend")
    assert (tmp_path / "broker" / "in").is_dir()


def test_real_services_from_environment(tmp_path):
    env = {
        "DEBUG": "1",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/3",
        "EMAIL_HOST": "127.0.0.1",
    }
    engine, cache, broker, mail = backends(env, tmp_path)
    assert engine == "django.db.backends.postgresql"
    assert cache.endswith("RedisCache")
    assert broker == "redis://127.0.0.1:6379/3"
    assert mail.endswith("smtp.EmailBackend")


def database_options(tmp_path: Path, **env: str) -> str:
    code = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS'))"
    result = run_manage(
        "shell", "--no-imports", "-c", code, env={"DEBUG": "1", **env}, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_postgresql_connection_gives_up_after_the_connect_timeout(tmp_path):
    url = "postgres://newsroom@db.example.internal:5432/newsroom"

    assert "'connect_timeout': 3" in database_options(tmp_path, DATABASE_URL=url)
    assert "'connect_timeout': 7" in database_options(
        tmp_path, DATABASE_URL=url, DATABASE_CONNECT_TIMEOUT="7"
    )
    # Said in the URL itself, it wins.
    assert "'connect_timeout': 1" in database_options(
        tmp_path, DATABASE_URL=url + "?connect_timeout=1", DATABASE_CONNECT_TIMEOUT="7"
    )
    assert "connect_timeout" not in database_options(tmp_path)  # SQLite has no such thing


def test_collectstatic_builds_the_production_manifest(tmp_path):
    """Production serves hashed, compressed files through whitenoise: no CDN."""
    import json

    env = production_env() | {"STATIC_ROOT": str(tmp_path / "static")}
    result = run_manage("collectstatic", "--noinput", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    for name in ("bootstrap/css/bootstrap.min.css", "articles/site.css", "articles/favicon.svg"):
        assert name in manifest
        assert (tmp_path / "static" / (manifest[name] + ".gz")).exists()


def media_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    code = (
        "from django.conf import settings; print(settings.MEDIA_URL); "
        "print(' '.join(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))"
    )
    return run_manage(
        "shell", "--no-imports", "-c", code, env=production_env() | env, tmp_path=tmp_path
    )


def test_uploads_are_served_by_the_site_unless_media_url_names_another_address(tmp_path):
    own = media_settings(tmp_path).stdout.splitlines()
    cdn = media_settings(tmp_path, MEDIA_URL="https://cdn.example.net/newsroom").stdout.splitlines()

    assert own == ["/media/", "'self' data:"]
    # The CDN's origin may serve images; the trailing slash Django needs is added.
    assert cdn == ["https://cdn.example.net/newsroom/", "'self' data: https://cdn.example.net"]


@pytest.mark.parametrize("value", ["cdn.example.net/media/", "ftp://cdn.example.net/", "media/"])
def test_a_media_url_that_is_neither_a_path_nor_a_web_address_stops_the_start(tmp_path, value):
    result = media_settings(tmp_path, MEDIA_URL=value)

    assert result.returncode != 0
    assert "MEDIA_URL must be a path such as /media/ or an http(s) address" in result.stderr
