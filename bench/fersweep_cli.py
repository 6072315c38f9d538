"""Runs a sweep spec with the real `fersweep run` (in-process, on a fresh database) and reads the
database back: the part every Python comparison in bench/ shares."""
import json
import os
import sqlite3
import subprocess
import tempfile


def run_and_query(binary, spec, queries):
    """Runs `spec` and returns the rows of each SQL query in `queries`, in order."""
    with tempfile.TemporaryDirectory(prefix="fersweep_bench_") as work:
        spec_path, db = os.path.join(work, "spec.json"), os.path.join(work, "bench.db")
        with open(spec_path, "w") as out:
            json.dump(spec, out)
        subprocess.run([binary, "run", spec_path, "--db", db, "--quiet"], check=True,
                       stdout=subprocess.DEVNULL)
        return [query(db, sql) for sql in queries]


def query(db, sql, params=()):
    """The rows of one SQL query on `db`, opened read-only."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
