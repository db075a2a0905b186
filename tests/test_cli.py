"""Command-line tools."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rrc.extensions import db
from rrc.models import Capability, Organisation, User, UserKind, UserStatus
from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "tangerine harbour 2718 glacier"


def test_create_admin_non_interactive(runner, client):
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "Root@IPK.example",
            "--name",
            "Root Admin",
            "--password-stdin",
        ],
        input=ADMIN_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(select(User).where(User.email == "root@ipk.example"))
    assert admin.kind == UserKind.STAFF and admin.status == UserStatus.ACTIVE
    assert admin.has_capability(Capability.ADMIN)
    assert login(client, "root@ipk.example", ADMIN_PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_create_admin_interactive_prompts(runner):
    result = runner.invoke(
        args=["create-admin"],
        input=f"ops@ipk.example\nOps Person\n{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.id).where(User.email == "ops@ipk.example"))


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 12"),
        ("passwordpassword", "too common"),
        ("root admin forever 1", "name"),
    ],
)
def test_create_admin_refuses_weak_passwords(runner, password, message):
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "root@ipk.example",
            "--name",
            "Root Admin",
            "--password-stdin",
        ],
        input=password + "\n",
    )
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_create_admin_refuses_duplicates(runner, factory):
    factory.partner(email="taken@ipk.example")
    result = runner.invoke(
        args=["create-admin", "--email", "TAKEN@ipk.example", "--name", "X Y", "--password-stdin"],
        input=ADMIN_PASSWORD + "\n",
    )
    assert result.exit_code != 0 and "already exists" in result.output


def test_demo_is_idempotent_and_covers_every_state(runner, client):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    counts = (
        db.session.scalar(select(func.count(User.id))),
        db.session.scalar(select(func.count(Organisation.id))),
    )
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert "(0 new records)" in second.output
    assert counts == (
        db.session.scalar(select(func.count(User.id))),
        db.session.scalar(select(func.count(Organisation.id))),
    )
    statuses = set(db.session.scalars(select(User.status).where(User.kind == UserKind.PARTNER)))
    assert statuses == set(UserStatus)
    staff = list(db.session.scalars(select(User).where(User.kind == UserKind.STAFF)))
    for capability in Capability:
        assert any(member.has_capability(capability) for member in staff), capability
    from rrc.demo import DEMO_PASSWORD

    assert login(client, "coordinator@ip-korea.org", DEMO_PASSWORD).status_code == 302


@pytest.mark.slow
def test_wheel_carries_templates_and_renders_from_installed_copy(tmp_path):
    """`pip install .` must deploy a working portal: templates and static files inside."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(dist)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "rrc/templates/base.html" in names
    assert "rrc/static/css/rrc.css" in names
    assert "rrc/translations/ko/LC_MESSAGES/messages.mo" in names
    assert any(name.startswith("rrc/migrations/versions/") for name in names)
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    script = f"""
import sys
sys.path.insert(0, {str(target)!r})
import rrc
assert rrc.__file__.startswith({str(target)!r}), rrc.__file__
app = rrc.create_app({{"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://",
                      "INSTANCE_PATH": {str(tmp_path / "instance")!r}}})
assert app.template_folder.startswith({str(target)!r}), app.template_folder
client = app.test_client()
page = client.get("/login", headers={{"Accept-Language": "ko"}})
assert page.status_code == 200, page.status_code
assert "로그인" in page.get_data(as_text=True)
assert client.get("/static/css/rrc.css").status_code == 200
print("rendered from", app.template_folder)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "rendered from" in result.stdout
