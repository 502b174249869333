"""The one settings object of crmlens.

Every path and switch comes from here: environment variables named ``CRMLENS_*``
(for example ``CRMLENS_HOME``, ``CRMLENS_WAREHOUSE_PATH``), with defaults under
``./.crmlens/``. Building a ``Settings`` reads the environment and nothing else:
it creates no folder and opens no file. Call :meth:`Settings.ensure_dirs` where a
command is about to write.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_REPO_ROOT = Path(__file__).resolve().parent.parent
# Files crmlens writes are readable by their owner only (see Settings.ensure_dirs).
PRIVATE_UMASK = 0o077
# Settings that hold credentials: they reach a run through the environment only, never
# Dagster run config, logs or MLflow params (pipelines/resources.py, pipelines/run.py).
SECRETS = ("source_postgres_dsn", "publish_postgres_dsn", "alert_webhook_url")
# The crmlens home's own folder name, and the file in it that remembers the user's source.
HOME_NAME = ".crmlens"
REMEMBERED_SOURCE = "source.json"


def discover_home(start: Path | None = None) -> Path:
    """The crmlens home seen from ``start`` (default: the working folder).

    The nearest ``.crmlens`` folder in ``start`` or above it, so a notebook started in
    ``notebooks/`` or a dashboard started elsewhere in the project finds the home that
    `crmlens run` wrote; ``./.crmlens`` when there is none yet (a first run creates it).
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / HOME_NAME).is_dir():
            return folder / HOME_NAME
    return Path(HOME_NAME)


class Settings(BaseSettings):
    """Paths and switches, read from ``CRMLENS_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="CRMLENS_", extra="ignore")

    home: Path = Field(
        default_factory=discover_home,
        description="Root for every default path below (warehouse, MLflow, exports); default: "
        "the nearest `.crmlens` folder in the working folder or above it, else ./.crmlens.",
    )
    warehouse_path: Path | None = Field(
        default=None, description="The DuckDB warehouse file the pipeline writes."
    )
    serving_path: Path | None = Field(
        default=None,
        description="The read-only snapshot that dashboards and notebooks open.",
    )
    data_dir: Path | None = Field(
        default=None, description="Where `crmlens generate` writes the synthetic CRM by default."
    )
    source_spec: Path | None = Field(
        default=None,
        description="The source spec (YAML) that ingest reads; default: the one the last "
        "`crmlens run --spec` or `crmlens ingest --spec` was given (remembered in the home), "
        "else the synthetic CRM's.",
    )
    source_root: Path | None = Field(
        default=None,
        description="Folder the spec's file paths are relative to; default: the remembered one "
        "with the remembered spec, else the spec's folder.",
    )
    source_postgres_dsn: str | None = Field(
        default=None,
        description="DSN of an operational CRM in PostgreSQL, for specs of kind `postgres`.",
    )
    real_data_dir: Path = Field(
        default=_REPO_ROOT.parent / "shared" / "data" / "real",
        description="The public datasets used to measure the models against published results.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None, description="MLflow tracking and registry URI; default a SQLite file."
    )
    export_dir: Path | None = Field(
        default=None, description="Folder of Parquet/CSV score exports with manifests."
    )
    publish_postgres_dsn: str | None = Field(
        default=None, description="PostgreSQL DSN the scores are published to, if any."
    )
    publish_attempts: int = Field(
        default=4,
        ge=1,
        description="Connections tried per table when publishing to PostgreSQL before the step "
        "fails (and raises an alert). The only retry of a publish: its Dagster step has none.",
    )
    publish_backoff_seconds: float = Field(
        default=2.0,
        ge=0,
        description="Wait after the first failed publish attempt, doubled after each.",
    )
    postgres_connect_timeout_seconds: int = Field(
        default=10, ge=1, description="How long connecting to PostgreSQL may take."
    )
    postgres_statement_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        description="PostgreSQL cancels a statement of a crmlens session running longer "
        "(statement_timeout); the client gives up waiting for an answer after this plus the "
        "time keepalives take to find a dead network.",
    )
    postgres_idle_in_transaction_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="PostgreSQL ends a crmlens session left idle inside a transaction this long "
        "(idle_in_transaction_session_timeout), so a vanished client never holds locks.",
    )
    postgres_keepalive_idle_seconds: int = Field(
        default=30, ge=1, description="TCP keepalive: silence before the first probe."
    )
    postgres_keepalive_interval_seconds: int = Field(
        default=10, ge=1, description="TCP keepalive: seconds between probes."
    )
    postgres_keepalive_count: int = Field(
        default=3, ge=1, description="TCP keepalive: unanswered probes before the link is dead."
    )
    publish_postgres_schema: str = Field(
        default="crmlens", description="Schema of the contract tables in that database."
    )
    publish_mapping: Path | None = Field(
        default=None,
        description="A publish mapping (YAML) onto the CRM's own tables, in the same database: "
        "rows updated, inserted, upserted or replaced, with constants and transforms.",
    )
    export_csv: bool = Field(default=False, description="Export CSV beside the Parquet files.")
    events_start_date: str | None = Field(
        default=None,
        description="First day of the daily event partitions (YYYY-MM-DD); default: the first "
        "day the source has event files for, else 2024-11-01.",
    )
    retrain_every_days: int = Field(
        default=7,
        ge=0,
        description="`crmlens run` (the whole sequence) trains when a family has no champion or "
        "its champion is older than this many days; 0 trains on every run.",
    )
    future_tolerance_hours: float = Field(
        default=24.0,
        description="How far past 'now' a timestamp may lie before it is quarantined (clock skew).",
    )
    ingest_chunk_rows: int = Field(
        default=750_000,
        description="Rows per chunk (whole days) of a partitioned load; bounds ingest memory.",
    )
    alert_webhook_url: str | None = Field(
        default=None,
        description="URL new alerts are POSTed to as JSON (e.g. a Slack or Teams relay), if any.",
    )
    freshness_warn_hours: float = Field(
        default=48.0,
        description="A source table whose newest change is older than this gets a warning.",
    )
    drift_warn_psi: float = Field(
        default=0.10, description="Population stability index above which drift is a warning."
    )
    drift_block_psi: float = Field(
        default=0.25,
        description="PSI (score, or importance-weighted features) above which publishing stops.",
    )
    drift_min_current_rows: int = Field(
        default=200,
        description="Below this many scored rows drift only warns: PSI over ten bins reads about "
        "9/n too high from sampling alone.",
    )
    drift_min_reference_rows: int = Field(
        default=500, description="Below this many reference rows drift only warns (as above)."
    )
    calibration_warn_ece: float = Field(
        default=0.05,
        description="Expected calibration error of a champion above which its calibration check "
        "warns.",
    )
    volume_warn_ratio: float = Field(
        default=0.5,
        description="A day of the last week with fewer events than this share of the median day "
        "of the four weeks before it gets a warning.",
    )
    hot_lead_days: int = Field(
        default=14,
        description="A hot lead created within this many days and never contacted raises an alert.",
    )
    health_fell_points: float = Field(
        default=15.0,
        description="A churn score that rose this many points since the previous publication "
        "raises a 'customer health fell' alert.",
    )
    activity_gap_days: int = Field(
        default=7,
        description="An active rep with open deals and no activity for this many days raises an "
        "alert.",
    )
    mql_points: int = Field(
        default=50,
        ge=0,
        le=100,
        description="A lead whose published score (0-100) reaches this is marketing-qualified "
        "(`qualification` = MQL in lead_scores); never on the no_reliable_signal path.",
    )
    qualified_points: int = Field(
        default=70,
        ge=0,
        le=100,
        description="A lead whose published score reaches this is sales-qualified "
        "(`qualification` = SQL); at least `mql_points`.",
    )
    trend_days: int = Field(
        default=7,
        ge=1,
        description="`score_trend` compares a score with the entity's published score this many "
        "days before.",
    )
    trend_points: float = Field(
        default=5.0,
        gt=0,
        description="A score this many points above (below) the one `trend_days` before is "
        "improving (declining); closer is steady.",
    )
    as_of: datetime | None = Field(
        default=None,
        description="Pins the data's 'today' (YYYY-MM-DD); default: the day after the newest "
        "activity in the warehouse, capped at the wall clock.",
    )
    dashboard_address: str = Field(
        default="127.0.0.1",
        description="Address `crmlens dashboard` (`make dashboard`) listens on. Only this "
        "machine by default; `0.0.0.0` serves every network, without authentication: put a "
        "reverse proxy with authentication in front (README, 'Dashboards for managers').",
    )
    dashboard_port: int = Field(default=8501, description="Port of the dashboards.")
    runs_kept: int = Field(
        default=20,
        ge=1,
        description="Log files and dbt target folders of this many recent runs are kept.",
    )
    dbt_project_dir: Path = Field(
        default=_REPO_ROOT / "dbt_project", description="The dbt project."
    )
    dbt_target_dir: Path | None = Field(
        default=None, description="Where dbt writes its artifacts; default under `home`."
    )

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        home = self.home
        self.warehouse_path = self.warehouse_path or home / "warehouse.duckdb"
        self.serving_path = self.serving_path or home / "serving" / "current.duckdb"
        self.data_dir = self.data_dir or home / "data" / "synthetic"
        if self.source_spec is None:
            remembered = self.remembered_source()
            if remembered:
                self.source_spec = Path(remembered["spec"])
                root = remembered.get("root")
                self.source_root = self.source_root or (Path(root) if root else None)
        self.source_spec = self.source_spec or self.data_dir / "source_spec.yml"
        self.mlflow_tracking_uri = self.mlflow_tracking_uri or (
            f"sqlite:///{(home / 'mlflow' / 'mlflow.db').resolve()}"
        )
        self.export_dir = self.export_dir or home / "exports"
        self.dbt_target_dir = self.dbt_target_dir or home / "dbt_target"
        if self.qualified_points < self.mql_points:
            raise ValueError(
                f"qualified_points ({self.qualified_points}) is below mql_points "
                f"({self.mql_points}): an SQL is an MQL first"
            )
        return self

    def remembered_source(self) -> dict | None:
        """The spec and root the last `--spec` was given (``<home>/source.json``), if any."""
        path = Path(self.home) / REMEMBERED_SOURCE
        try:
            remembered = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return remembered if isinstance(remembered, dict) and remembered.get("spec") else None

    def remember_source(self, name: str | None = None) -> None:
        """Record this spec (its path and ``name``) and root in the home, so later
        commands need neither."""
        root = Path(self.source_root).resolve() if self.source_root else None
        record = {
            "spec": str(Path(self.source_spec).resolve()),
            "root": root and str(root),
            "name": name,
        }
        path = Path(self.home) / REMEMBERED_SOURCE
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2) + "\n")
        tmp.replace(path)

    @property
    def future_tolerance(self) -> timedelta:
        return timedelta(hours=self.future_tolerance_hours)

    @property
    def mlflow_artifacts_dir(self) -> Path:
        return self.home / "mlflow" / "artifacts"

    @property
    def logs_dir(self) -> Path:
        """One log file per run (`crmlens run`, `make demo`)."""
        return self.home / "logs"

    def ensure_dirs(self) -> None:
        """Create the folders the pipeline writes to, readable by their owner only.

        Called by commands, never on import. The warehouse, exports, Dagster's run
        storage, MLflow's store and the logs hold customer data and run details, so the
        process's files are made private from here on (umask 077) and the folders
        crmlens creates are ``0700``; ``home`` (crmlens's own folder) is made ``0700``
        even if it existed, so nothing under it is readable by other users.
        """
        os.umask(PRIVATE_UMASK)
        for path in (
            self.home,
            self.warehouse_path.parent,
            self.serving_path.parent,
            self.export_dir,
            self.mlflow_artifacts_dir,
            self.logs_dir,
        ):
            Path(path).mkdir(mode=0o700, parents=True, exist_ok=True)
        Path(self.home).chmod(0o700)
        if Path(self.warehouse_path).exists():
            Path(self.warehouse_path).chmod(0o600)


def get_settings(**overrides: object) -> Settings:
    """Read the settings from the environment now, with explicit overrides on top."""
    return Settings(**overrides)
