"""Which release this process runs: stored pages and kept values belong to one release.

The id is part of the keys of stored pages and kept values (not of generations
and tags, which every release shares), so a deploy that changes how pages look
starts from an empty page cache with no one running a command, and processes of
the previous and the next release side by side during a rolling deploy never
serve each other's pages.

It is ``RELEASE_ID`` when set (a version, a commit), else a digest of the files
that decide how a page looks: the template folders (every engine's ``DIRS`` and
each installed app's ``templates/``) and, whole, the project's own packages (the
project's package, ``newsroom``, and the installed apps that live in the project
rather than among the installed libraries: their code, templates and static
files). Every process of a release computes the same digest from the same files,
on any machine. Worked out once per process (``newsroom/wsgi.py`` asks at
start-up), so it costs a hit nothing.
"""

import functools
import hashlib
import sysconfig
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings


@functools.cache
def release_id() -> str:
    return settings.RELEASE_ID or _digest()


def _digest() -> str:
    digest = hashlib.sha256(f"django {django.get_version()}\n".encode())
    for name, path in sorted(_files()):
        digest.update(f"{name}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _files():
    """(name, path) of each file that decides how pages look, named alike on every machine."""
    project = Path(settings.BASE_DIR).resolve()
    libraries = {Path(sysconfig.get_path(name)).resolve() for name in ("purelib", "platlib")}
    folders = {}
    for engine in settings.TEMPLATES:
        for index, folder in enumerate(engine.get("DIRS", ())):
            folders[f"{engine['BACKEND']}:dirs{index}"] = Path(folder)
    # The project's package (the one this page cache is part of), and every app.
    packages = {
        "project": Path(__file__).parents[1],
        **{app.label: Path(app.path) for app in apps.get_app_configs()},
    }
    for label, path in packages.items():
        path = path.resolve()
        installed = any(path.is_relative_to(folder) for folder in libraries)
        if path.is_relative_to(project) and not installed:
            folders[f"own:{path.relative_to(project).as_posix()}"] = path
        else:
            folders[f"{label}:templates"] = path / "templates"
    for label, folder in folders.items():
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                yield f"{label}/{path.relative_to(folder).as_posix()}", path
