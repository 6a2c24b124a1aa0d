#!/usr/bin/env python3
"""How full SQLite leaves a b-tree, by how it was built, seen from the pages a later commit of
ten entries at random places writes (WAL frames). Plain SQLite (Python's sqlite3), 4 KiB pages,
no encryption: the page counts are SQLite's; SQLCipher then pays its crypto on each.

  python3 bench/index_fill.py [ROWS]   (default 100000; a few seconds)

1. An index on (entity, happened_at), as the device's `records_by_entity`: built by
   CREATE INDEX after the rows are in (as a bulk first sync does), or kept while the rows go in
   at random (as record by record does).
2. A WITHOUT ROWID table keyed by two random ids, as the device's `record_people`: filled by
   one INSERT ... SELECT ... ORDER BY (as a bulk load's merge does), or in random order.
"""
import os
import random
import sqlite3
import sys
import tempfile

FRAME = 4096 + 24


def frames(path):
    wal = path + "-wal"
    return max(0, (os.path.getsize(wal) - 32) // FRAME) if os.path.exists(wal) else 0


def connect(path):
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA page_size = 4096")
    c.execute("PRAGMA journal_mode = WAL")
    c.execute("PRAGMA wal_autocheckpoint = 0")
    return c


def when(rnd):
    return "2026-%02d-%02dT%02d:%02d:%02d.%06dZ" % (
        rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 23),
        rnd.randint(0, 59), rnd.randint(0, 59), rnd.randint(0, 999999))


def later_commits(c, path, insert, rnd, commits=20):
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = frames(path)
    for _ in range(commits):
        c.execute("BEGIN")
        for _ in range(10):
            insert(rnd)
        c.execute("COMMIT")
    return (frames(path) - before) / commits


def index(dirname, rows, create_index_after):
    path = os.path.join(dirname, "index-%s.db" % create_index_after)
    c = connect(path)
    c.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, entity TEXT, happened_at TEXT, pad BLOB)")
    if not create_index_after:
        c.execute("CREATE INDEX r_by ON r (entity, happened_at)")
    rnd = random.Random(1)
    c.execute("BEGIN")
    for _ in range(rows):
        c.execute("INSERT INTO r (entity, happened_at, pad) VALUES ('visit', ?, ?)",
                  (when(rnd), b"x" * 200))
    c.execute("COMMIT")
    if create_index_after:
        c.execute("CREATE INDEX r_by ON r (entity, happened_at)")
    insert = lambda rnd: c.execute(
        "INSERT INTO r (entity, happened_at, pad) VALUES ('visit', ?, ?)", (when(rnd), b"y" * 200))
    return later_commits(c, path, insert, random.Random(7))


def table(dirname, rows, sorted_fill):
    path = os.path.join(dirname, "table-%s.db" % sorted_fill)
    c = connect(path)
    rnd = random.Random(1)
    c.execute("CREATE TABLE staged (p TEXT, r TEXT)")
    c.execute("BEGIN")
    c.executemany("INSERT INTO staged VALUES (?, ?)",
                  (("%032x" % rnd.getrandbits(128), "%032x" % rnd.getrandbits(128))
                   for _ in range(rows)))
    c.execute("COMMIT")
    c.execute("CREATE TABLE links (p TEXT, r TEXT, PRIMARY KEY (p, r)) WITHOUT ROWID")
    c.execute("INSERT INTO links SELECT p, r FROM staged" + (" ORDER BY 1, 2" if sorted_fill else ""))
    insert = lambda rnd: c.execute("INSERT INTO links VALUES (?, ?)",
                                   ("%032x" % rnd.getrandbits(128), "%032x" % rnd.getrandbits(128)))
    return later_commits(c, path, insert, random.Random(7))


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print("SQLite %s, %d rows; WAL frames a later commit of ten entries at random places:"
          % (sqlite3.sqlite_version, rows))
    with tempfile.TemporaryDirectory() as d:
        print("  index, built by CREATE INDEX after the rows:     %.1f" % index(d, rows, True))
        print("  index, kept while the rows went in at random:    %.1f" % index(d, rows, False))
        print("  WITHOUT ROWID table, one INSERT ... ORDER BY:    %.1f" % table(d, rows, True))
        print("  WITHOUT ROWID table, filled in random order:      %.1f" % table(d, rows, False))


if __name__ == "__main__":
    main()
