"""Runs a sweep spec with the real `fersweep run` (in-process, on a fresh database) and reads the
database back: the part every Python comparison in bench/ shares."""
import json
import os
import sqlite3
import subprocess
import tempfile


def run_spec(binary, spec, spec_path, db, options=(), launcher=()):
    """Writes `spec` to `spec_path` and runs `[*launcher, binary, "run", ...]` on `db` quietly,
    with further `options` (e.g. --checkpoints none); `launcher`: e.g. mpiexec and its options."""
    with open(spec_path, "w") as out:
        json.dump(spec, out)
    subprocess.run([*launcher, binary, "run", spec_path, "--db", db, "--quiet", *options],
                   check=True, stdout=subprocess.DEVNULL)


def run_and_query(binary, spec, queries):
    """Runs `spec` and returns the rows of each SQL query in `queries`, in order."""
    with tempfile.TemporaryDirectory(prefix="fersweep_bench_") as work:
        db = os.path.join(work, "bench.db")
        run_spec(binary, spec, os.path.join(work, "spec.json"), db)
        return [query(db, sql) for sql in queries]


def query(db, sql, params=()):
    """The rows of one SQL query on `db`, opened read-only."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
