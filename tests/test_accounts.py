"""Accounts: hashed passwords, roles, API tokens stored hashed, the secret key, the CLI."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner

from memoires_ld.accounts import Accounts, secret_key
from memoires_ld.cli import main
from memoires_ld.errors import BadRequest, Conflict, NotFound


@pytest.fixture
def accounts(tmp_path):
    return Accounts(tmp_path / "instance")


def test_passwords_are_hashed_and_checked(accounts):
    accounts.add("camille", "un mot de passe long", "editor")
    raw = accounts.path.read_bytes()
    assert b"un mot de passe long" not in raw and b"$argon2id$" in raw
    assert accounts.check_password("camille", "un mot de passe long").can_write
    assert accounts.check_password("camille", "un mot de passe LONG") is None
    assert accounts.check_password("personne", "un mot de passe long") is None
    assert stat.S_IMODE(accounts.path.stat().st_mode) == 0o600


def test_names_roles_and_passwords_are_checked(accounts):
    for name in ("Camille", "a", "import", "x y", "é"):
        with pytest.raises(BadRequest):
            accounts.add(name, "assez long mot de passe")
    with pytest.raises(BadRequest):
        accounts.add("camille", "court")
    with pytest.raises(BadRequest):
        accounts.add("camille", "assez long mot de passe", role="chef")
    accounts.add("camille", "assez long mot de passe")
    with pytest.raises(Conflict):
        accounts.add("camille", "assez long mot de passe")


def test_a_reader_cannot_write(accounts):
    reader = accounts.add("lecteur", "assez long mot de passe", role="reader")
    assert not reader.can_write


def test_tokens(accounts):
    accounts.add("robot", "assez long mot de passe")
    token, secret = accounts.create_token("robot", "import")
    assert secret.startswith(f"mld_{token.id}_")
    assert secret.split("_", 2)[2].encode() not in accounts.path.read_bytes()
    assert accounts.account_for_token(secret).name == "robot"
    assert accounts.account_for_token(secret[:-1] + "x") is None
    assert accounts.account_for_token("n'importe quoi") is None
    assert accounts.tokens("robot")[0].last_used is not None
    accounts.revoke_token(token.id)
    assert accounts.account_for_token(secret) is None
    with pytest.raises(NotFound):
        accounts.create_token("personne")


def test_removing_an_account_removes_its_tokens(accounts):
    accounts.add("robot", "assez long mot de passe")
    _, secret = accounts.create_token("robot")
    accounts.remove("robot")
    assert accounts.account_for_token(secret) is None and accounts.tokens() == []


def test_secret_key_is_generated_once_readable_by_its_owner_only(tmp_path, monkeypatch):
    key = secret_key(tmp_path)
    assert len(key) == 64 and secret_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert secret_key(tmp_path, "configured") == "configured"


def test_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMOIRES_LD_INSTANCE_DIR", str(tmp_path / "instance"))
    runner = CliRunner()
    added = runner.invoke(main, ["user", "add", "camille"], input="mot de passe sûr\n" * 2)
    assert added.exit_code == 0, added.output
    assert "mot de passe sûr" not in added.output
    robot = runner.invoke(
        main, ["user", "add", "robot", "--password-stdin"], input="encore un mot de passe\n"
    )
    assert robot.exit_code == 0, robot.output
    listed = runner.invoke(main, ["user", "list"])
    assert [line.split("\t")[:2] for line in listed.output.splitlines()] == [
        ["camille", "editor"],
        ["robot", "editor"],
    ]
    created = runner.invoke(main, ["token", "create", "robot", "--label", "script"])
    secret = created.stdout.strip()
    accounts = Accounts(tmp_path / "instance")
    assert accounts.account_for_token(secret).name == "robot"
    token_id = secret.split("_")[1]
    assert token_id in runner.invoke(main, ["token", "list"]).output
    assert runner.invoke(main, ["token", "revoke", token_id]).exit_code == 0
    assert runner.invoke(main, ["user", "remove", "camille"]).exit_code == 0
    missing = runner.invoke(main, ["user", "remove", "camille"])
    assert missing.exit_code == 2 and "camille" in missing.output
    short = runner.invoke(main, ["user", "add", "x1", "--password-stdin"], input="court\n")
    assert short.exit_code == 2
