"""Settings: defaults < instance/config.py < environment < overrides."""

from memoires_ld import config


def test_precedence(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        'BASE_URL = "https://from-file.example/"\nDATA_DIR = "d1"\n'
    )
    monkeypatch.setenv("MEMOIRES_LD_DATA_DIR", "d2")
    settings = config.load({"INSTANCE_DIR": str(instance)})
    assert settings["BASE_URL"] == "https://from-file.example/"
    assert settings["DATA_DIR"] == "d2"
    settings = config.load(
        {"INSTANCE_DIR": str(instance), "DATA_DIR": "d3", "BASE_URL": "https://x.org"}
    )
    assert settings["DATA_DIR"] == "d3"
    assert settings["BASE_URL"] == "https://x.org/"


def test_every_setting_has_help():
    assert all(s.help for s in config.SETTINGS)
