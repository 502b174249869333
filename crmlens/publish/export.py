"""Target 2: an export folder of Parquet (and CSV on request) per table, with a manifest.

Layout: ``<export_dir>/<table>.parquet`` (``.csv``) and ``<table>.manifest.json``
(row count, schema, byte size and SHA-256 of every file, run id). Every file is
written under a temporary name in the same folder and renamed into place, so a
reader never sees a partial file; the manifest is renamed last, and its checksums
let a reader confirm that the files it read are the ones the manifest describes.
Temporary names carry the writer's pid: a writer killed half-way leaves its files, and
the next export removes those of processes that are gone.

The CSV is for spreadsheets: text cells that a spreadsheet would run as a formula are
neutralised (:mod:`crmlens.publish.spreadsheet`); the Parquet file keeps the values as
they are.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import duckdb

from crmlens.clock import utc_now
from crmlens.publish.spreadsheet import neutralise_formulas
from crmlens.runlock import remove_orphans, temp_name
from crmlens.warehouse import fetch_one, sql_literal, table_columns


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def export_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    folder: Path,
    run_id: str,
    csv: bool = False,
) -> dict:
    """Write ``publish.<table>`` to ``folder``, each file renamed into place when complete.

    Args:
        con: a connection to the warehouse.
        table: the score table's name.
        folder: the export folder (created if missing).
        run_id: recorded in the manifest.
        csv: also write a CSV beside the Parquet file.

    Returns:
        The manifest (also written as ``<table>.manifest.json``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    remove_orphans(folder, f".{table}")
    formats = {"parquet": "(format parquet, compression zstd)"} | (
        {"csv": "(format csv, header true)"} if csv else {}
    )
    files = []
    staged: list[tuple[Path, Path]] = []
    for fmt, options in formats.items():
        final = folder / f"{table}.{fmt}"
        tmp = folder / temp_name(f".{table}", f".{fmt}.tmp")
        source = f"publish.{table}"
        if fmt == "csv":
            con.register("_csv_rows", neutralise_formulas(con.sql(f"from {source}").pl()))
            source = "_csv_rows"
        try:
            con.execute(f"copy (select * from {source}) to {sql_literal(str(tmp))} {options}")
        finally:
            if fmt == "csv":
                con.unregister("_csv_rows")
        files.append(
            {"name": final.name, "format": fmt, "bytes": tmp.stat().st_size, "sha256": _sha256(tmp)}
        )
        staged.append((tmp, final))
    schema = [
        {"name": name, "type": dtype}
        for name, dtype in table_columns(con, "publish", table).items()
    ]
    manifest = {
        "table": table,
        "run_id": run_id,
        "rows": fetch_one(con, f"select count(*) from publish.{table}")[0],
        "schema": schema,
        "files": files,
        "published_at": utc_now().isoformat(timespec="seconds"),
    }
    for tmp, final in staged:
        os.replace(tmp, final)
    manifest_tmp = folder / temp_name(f".{table}", ".manifest.tmp")
    manifest_tmp.write_text(json.dumps(manifest, indent=2))
    os.replace(manifest_tmp, folder / f"{table}.manifest.json")
    return manifest


def verify(folder: Path, table: str) -> dict:
    """Read a manifest and check its files against it.

    Args:
        folder: the export folder.
        table: the score table's name.

    Returns:
        The manifest.

    Raises:
        ValueError: a file's size or checksum differs from the manifest's.
    """
    manifest = json.loads((Path(folder) / f"{table}.manifest.json").read_text())
    for entry in manifest["files"]:
        path = Path(folder) / entry["name"]
        if path.stat().st_size != entry["bytes"] or _sha256(path) != entry["sha256"]:
            raise ValueError(f"{path} does not match its manifest (run {manifest['run_id']})")
    return manifest
