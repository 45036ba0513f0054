"""`kg serve` settings come from flags, KG_* variables and kg.toml like every other; mistakes are one-line errors."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from kg.settings import Settings, SettingsError, load_settings, service_allow_list


def test_serve_settings_from_file_environment_and_flags(tmp_path):
    config = tmp_path / "kg.toml"
    config.write_text(
        '[kg]\nport = 8080\ntimeout = 2.5\nservice_allow = ["https://query.wikidata.org/sparql", "http://other/sparql"]\n'
    )
    settings = load_settings(config, environ={"KG_MAX_ROWS": "500", "KG_UPDATE_TOKEN": "t0ken"})
    assert (settings.port, settings.timeout, settings.max_rows, settings.update_token) == (8080, 2.5, 500, "t0ken")
    assert service_allow_list(settings) == {"https://query.wikidata.org/sparql", "http://other/sparql"}
    assert settings.with_overrides(port=9000, timeout=None).port == 9000
    assert service_allow_list(load_settings(environ={"KG_SERVICE_ALLOW": "http://a/sparql, http://b/sparql"})) == {
        "http://a/sparql",
        "http://b/sparql",
    }
    defaults = Settings()
    assert (defaults.host, defaults.port, defaults.update_token, defaults.service_allow) == (
        "127.0.0.1",
        5000,
        None,
        "",
    )


def test_bad_serve_settings_say_which():
    with pytest.raises(SettingsError, match="timeout must be a positive"):
        load_settings(environ={"KG_TIMEOUT": "0", "KG_CONFIG": "/nonexistent/kg.toml"})
    with pytest.raises(SettingsError, match="max_rows cannot be negative"):
        load_settings(environ={"KG_MAX_ROWS": "-1", "KG_CONFIG": "/nonexistent/kg.toml"})
    with pytest.raises(SettingsError, match="default_graph must be one of union, standard, not 'merged'"):
        load_settings(environ={"KG_DEFAULT_GRAPH": "merged", "KG_CONFIG": "/nonexistent/kg.toml"})


def test_the_default_graph_is_the_union_unless_set_to_the_standard_one():
    assert Settings().default_graph == "union"
    chosen = load_settings(environ={"KG_DEFAULT_GRAPH": "standard", "KG_CONFIG": "/nonexistent/kg.toml"})
    assert chosen.default_graph == "standard"
    refused = serve_failing("--default-graph", "merged")
    assert refused.returncode == 2 and "'merged' is not one of 'union', 'standard'" in refused.stderr


def serve_failing(*args: str) -> subprocess.CompletedProcess:
    """`kg serve ARGS...` that is expected to stop at once."""
    return subprocess.run([sys.executable, "-m", "kg", "serve", *args], capture_output=True, text=True, timeout=60)


def test_serving_a_missing_store_is_a_one_line_error(tmp_path):
    result = serve_failing("--store", str(tmp_path / "nothing"), "--port", "0")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: no store at {tmp_path / 'nothing'} (build one with 'kg build')"
    ]


def test_serving_on_a_port_already_taken_is_a_one_line_error(built_seeds):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve_failing("--store", str(built_seeds), "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use (another server? choose another --port)"
    ]
