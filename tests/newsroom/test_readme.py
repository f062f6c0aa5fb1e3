"""README.md stands alone, and what it tells a first user to type works."""

import re
import subprocess
import sys

from tests.services import BASE_DIR, embedded_env

README = (BASE_DIR / "README.md").read_text()


def test_readme_names_no_file_outside_the_repository():
    named = re.findall(r"`([\w./-]+\.(?:md|py|conf|toml|cfg|txt|html|css|js|sh))`", README)
    named += [
        target
        for target in re.findall(r"\]\(([^)\s]+)\)", README)
        if not re.match(r"[a-z]+:|#", target)
    ]
    # A name that starts with a slash is an address on the site (/robots.txt).
    files = [name for name in named if not name.startswith("/")]
    assert files, "README names no file at all: this test would prove nothing"
    outside = [
        name
        for name in files
        if not (BASE_DIR / name).resolve().is_relative_to(BASE_DIR)
        or not (BASE_DIR / name).exists()
    ]
    assert not outside


LOGIN = """
import django
django.setup()
from django.test import Client
client = Client()
response = client.post(
    "/admin/login/?next=/admin/", {"username": "chief", "password": "a-long-chief-password"}
)
assert response.status_code == 302 and response["Location"] == "/admin/", response.status_code
page = client.get("/admin/auth/user/")
assert page.status_code == 200, page.status_code
print("signed in")
"""


def test_the_readme_superuser_command_makes_an_admin_login_on_the_embedded_site(embedded_var):
    commands = [
        line.strip() for line in README.splitlines() if line.strip().endswith("createsuperuser")
    ]
    assert commands, "README must say how to create a superuser"
    command = commands[0]
    # A fresh shell, as a reader's: none of the test run's settings variables.
    env = {
        key: value
        for key, value in embedded_env(embedded_var).items()
        if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL"}
    }
    # What the command asks for, given the way Django documents for a script.
    env |= {
        "DJANGO_SUPERUSER_USERNAME": "chief",
        "DJANGO_SUPERUSER_EMAIL": "",
        "DJANGO_SUPERUSER_PASSWORD": "a-long-chief-password",
    }
    created = subprocess.run(  # noqa: S602 - the README's own command line, as a reader types it
        f"{command} --noinput",
        shell=True,
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr[-3000:]

    signed_in = subprocess.run(  # noqa: S603 - fixed argv, our own script
        [sys.executable, "-c", LOGIN],
        cwd=BASE_DIR,
        env=embedded_env(embedded_var),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert signed_in.stdout.strip().endswith("signed in"), signed_in.stderr[-3000:]
