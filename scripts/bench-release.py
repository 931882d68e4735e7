#!/usr/bin/env python3
"""bench-release.py REGISTRY MODELS VERSIONS: a big registry for the release
rows of 'make bench': MODELS x VERSIONS versions and three events per
version (a push and two alias moves), so 100 x 1000 gives 100,000 versions
and 300,000 events.

The registry is made by mlctl itself first (two real versions of 'iris', a
policy, a validate record: what 'mlctl promote' is timed on); the
synthetic models are then written into its index (mlctl.db), the rows as
mlctl writes them, in one transaction. Their git history is not written
(300,000 commits and tags would take longer than the bench itself): the
rows measure the queries, which read only the index. The database reflects
git's tip, so mlctl opens it without a replay.
"""
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys

reg, models, versions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if os.path.exists(reg):
    sys.exit(f"bench-release: {reg} is there already")
mlctl = os.environ.get("MLCTL", "./mlctl")
env = dict(os.environ, MLCTL_REGISTRY=reg, MLCTL_ACTOR="bench <bench@localhost>")
work = reg + ".src"


def run(*args):
    subprocess.run([mlctl, *args], env=env, check=True, stdout=subprocess.DEVNULL)


for v, acc in (("1.0.0", 0.94), ("1.1.0", 0.95)):
    d = os.path.join(work, v)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.bin"), "wb") as f:
        f.write(os.urandom(4096))
    with open(os.path.join(d, "mlctl.json"), "w") as f:
        json.dump({"schema": "mlctl/v1", "name": "iris", "version": v, "license": "MIT",
                   "artifacts": [{"path": "model.bin", "role": "model"}],
                   "metrics": {"accuracy": acc}}, f)
    run("push", d, "-q")
run("validate", "iris:1.1.0", "--record", "-q")
run("alias", "set", "iris:1.0.0", "production", "-q")
run("policy", "set", "iris", "production", "--require", "validated", "--gate", "accuracy>=0.9",
    "--gate-vs-current", "accuracy>=-0.01", "-q")

db = sqlite3.connect(os.path.join(reg, "mlctl.db"))
rnd = random.Random(1)
t0 = 1_700_000_000
db.execute("BEGIN")
for mi in range(models):
    name = f"model-{mi:04d}"
    cur = db.execute("INSERT INTO models(name, created, tag_n, tag_time) VALUES(?,?,?,?)",
                     (name, t0, 2 * versions, t0 + 3 * versions))
    mid = cur.lastrowid
    n = 0
    for vi in range(versions):
        ver = f"{vi // 100}.{vi % 100}.0"
        sha = "%064x" % rnd.getrandbits(256)
        when = t0 + 3 * vi
        manifest = json.dumps({"schema": "mlctl/v1", "name": name, "version": ver,
                               "license": "MIT",
                               "artifacts": [{"path": "model.bin", "role": "model"}],
                               "metrics": {"accuracy": round(rnd.random(), 4)},
                               "files": [{"path": "model.bin", "size": 4096, "mode": "0644",
                                          "sha256": sha}]}, sort_keys=True,
                              separators=(",", ":"))
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        commit = "%040x" % rnd.getrandbits(160)
        cur = db.execute("INSERT INTO versions(model_id, version, digest, size, nfiles, "
                         "manifest, created, actor, git_commit, validated) "
                         "VALUES(?,?,?,?,?,?,?,?,?,1)",
                         (mid, ver, digest, 4096, 1, manifest, when, "bench <bench@localhost>",
                          commit))
        db.execute("INSERT INTO files(version_id, path, size, mode, sha256) VALUES(?,?,?,?,?)",
                   (cur.lastrowid, "model.bin", 4096, 0o644, sha))
        db.execute("INSERT INTO events(type, model, version, digest, actor, time, git_commit, tag) "
                   "VALUES('push',?,?,?,?,?,?,?)",
                   (name, ver, digest, "bench <bench@localhost>", when, commit,
                    f"{name}@v{ver}"))
        prev = None
        for k, alias in enumerate(("staging", "production")):
            n += 1
            ecommit = "%040x" % rnd.getrandbits(160)
            db.execute("INSERT INTO events(type, model, version, digest, actor, time, reason, "
                       "git_commit, alias, from_version, tag, via) "
                       "VALUES('alias',?,?,?,?,?,?,?,?,?,?,'promote')",
                       (name, ver, digest, "release <rel@localhost>", when + 1 + k,
                        f"CHG-{mi}-{vi}", ecommit, alias, prev, f"{name}#{alias}#{n}"))
            db.execute("INSERT INTO alias_moves(model, alias, n, version, digest, time, actor, "
                       "reason, git_commit, via) VALUES(?,?,?,?,?,?,?,?,?,'promote')",
                       (name, alias, n, ver, digest, when + 1 + k, "release <rel@localhost>",
                        f"CHG-{mi}-{vi}", ecommit))
            db.execute("INSERT OR REPLACE INTO aliases(model, alias, version, digest, moved, actor, "
                       "git_commit) VALUES(?,?,?,?,?,?,?)",
                       (name, alias, ver, digest, when + 1 + k, "release <rel@localhost>",
                        ecommit))
db.execute("COMMIT")
db.close()
print(f"{models * versions} versions, {3 * models * versions} events")


def median_ms(cmd, n):
    import statistics
    import time
    times = []
    for _ in range(n):
        a = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - a) * 1000)
    return statistics.median(times)


def peak_kib(cmd):
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], env=env, check=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    return int(out.strip().splitlines()[-1])


def report(n):
    dbp = os.path.join(reg, "mlctl.db")
    m = f"model-{models // 2:04d}"
    v = f"{(versions // 2) // 100}.{(versions // 2) % 100}.0"
    sq = lambda q: ["sqlite3", dbp, q]
    rows = [
        ("list", [mlctl, "list"],
         sq("SELECT m.name, count(v.id), max(v.created) FROM models m JOIN versions v ON "
            "v.model_id = m.id GROUP BY m.id ORDER BY m.name; SELECT m.name, v.version FROM "
            "versions v JOIN models m ON m.id = v.model_id ORDER BY m.name")),
        (f"versions {m}", [mlctl, "versions", m],
         sq(f"SELECT v.version, v.digest, v.size, v.created, v.actor, v.deprecated FROM versions "
            f"v JOIN models m ON m.id = v.model_id WHERE m.name = '{m}'; SELECT alias, version "
            f"FROM aliases WHERE model = '{m}'")),
        (f"history {m}", [mlctl, "history", m],
         sq(f"SELECT e.type, e.version, e.digest, e.alias, e.from_version, e.actor, e.time, "
            f"e.reason, e.tag, e.git_commit, e.via FROM events e WHERE e.model = '{m}' AND "
            f"e.type <> 'skipped' ORDER BY e.time DESC, e.id DESC")),
        (f"show {m}:{v}", [mlctl, "show", f"{m}:{v}"],
         sq(f"SELECT v.manifest, v.digest, v.created, v.actor FROM versions v JOIN models m ON "
            f"m.id = v.model_id WHERE m.name = '{m}' AND v.version = '{v}'; SELECT * FROM "
            f"records WHERE digest = (SELECT v.digest FROM versions v JOIN models m ON "
            f"m.id = v.model_id WHERE m.name = '{m}' AND v.version = '{v}'); SELECT alias "
            f"FROM aliases WHERE model = '{m}'")),
    ]
    base_m = median_ms([mlctl, "--version"], n)
    base_s = median_ms(["sqlite3", ":memory:", "SELECT 1"], n)
    print(f"{'process start alone':34s} mlctl {base_m:7.1f} ms   sqlite3 {base_s:6.1f} ms")
    for name, mc, sc in rows:
        tm, ts = median_ms(mc, n), median_ms(sc, n)
        net = (tm - base_m) / max(ts - base_s, 0.1)
        print(f"mlctl {name:28s} {tm:7.1f} ms   sqlite3 {ts:6.1f} ms   {tm / ts:5.2f}x, "
              f"{net:5.2f}x net of process start (target <= 2)   {peak_kib(mc) / 1024:5.1f} MiB")
    # promote on the big registry: iris:1.1.0 to production under its policy, then back
    times = []
    for i in range(n):
        ver = "1.1.0" if i % 2 == 0 else "1.0.0"
        times.append(median_ms([mlctl, "promote", f"iris:{ver}", "production", "--force",
                                "--reason", "bench"], 1))
    times.sort()
    print(f"{f'mlctl promote (policy, {models * versions} versions)':34s} {times[len(times) // 2]:7.1f} ms "
          f"median of {n} (target <= 100 ms)")


if os.environ.get("BENCH_RELEASE_REPORT"):
    report(int(os.environ.get("BENCH_RELEASE_RUNS", "11")))
