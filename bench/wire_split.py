"""How a pull page's compressed bytes split: the real wire, then the same pages with parts
removed or re-shaped, each compressed as the server does (zstd level 3), and other levels.

Run against a server the first-sync benchmark holds open (BENCHMARKS.md, "First sync"):
    FIRST_SYNC_HOLD=1 cargo bench -p pocketbook-tests --bench first_sync -- --records 20000
    python3 -m pip install zstandard   # once
    python3 bench/wire_split.py URL CODE   # the two values the benchmark printed
It enrols a throwaway device with the one-time code and pulls every page as the core asks for
them (a record's common version sent once)."""
import json, sys, uuid, urllib.request, zstandard

url, code = sys.argv[1], sys.argv[2]
H = {"pocketbook-protocol": "1", "content-type": "application/json"}

def post(path, body, token=None, enc="zstd"):
    h = dict(H, **({"authorization": "Bearer " + token} if token else {}))
    h["accept-encoding"] = enc
    req = urllib.request.Request(url + path, json.dumps(body).encode(), h)
    with urllib.request.urlopen(req) as r:
        raw = r.read()
        if r.headers.get("content-encoding") == "zstd":
            return len(raw), json.loads(zstandard.ZstdDecompressor().decompressobj().decompress(raw))
        return len(raw), json.loads(raw)

_, enrolled = post("/v1/enroll", {"code": code, "device_id": str(uuid.uuid4()), "device_name": "split"})
token = enrolled["token"]
pages, wire, cursors, epoch = [], 0, {}, None
while True:
    n, page = post("/v1/sync/pull", {"epoch": epoch, "cursors": cursors, "limit": 1000, "reference": False, "common_version": True}, token)
    wire += n
    pages.append(page)
    cursors, epoch = page["cursors"], page["epoch"]
    if page["remaining"] == 0 or not page["entries"]:
        break
records = sum(len(p["entries"]) for p in pages)
z = zstandard.ZstdCompressor(level=3)
def size(transform):
    total = 0
    for p in pages:
        q = json.loads(json.dumps(p))
        for e in q["entries"]:
            transform(e)
        total += len(z.compress(json.dumps(q, separators=(",", ":")).encode()))
    return total / records
def every_version(e):
    if "version" in e:
        e["versions"] = dict({k: e["version"] for k in e.get("fields", {})}, **e.get("versions", {}))
        del e["version"]
def drop(*keys):
    def f(e):
        for k in keys:
            e.pop(k, None)
    return f
def drop_fields(*names):
    def f(e):
        for k in names:
            e.get("fields", {}).pop(k, None)
    return f
v = pages[0]["entries"][0].get("version")
print(f"records {records}, pages {len(pages)}, wire {wire / records:.1f} B/record (zstd as served)")
print(f"as JSON: {sum(len(json.dumps(p, separators=(',', ':'))) for p in pages) / records:.0f} B/record; a version looks like {v!r}")
base = size(lambda e: None)
print(f"re-compressed at level 3: {base:.1f}")
for name, t in [
    ("every field's own version (as an app that does not ask is sent)", every_version),
    ("no versions at all", drop("version", "versions")),
    ("no bucket per entry", drop("bucket")),
    ("no id", drop("id")),
    ("no narrative", drop_fields("narrative")),
]:
    s = size(t)
    print(f"{name}: {s:.1f} ({s - base:+.1f})")
for level in (1, 3, 6, 9, 12, 19):
    zz = zstandard.ZstdCompressor(level=level)
    tot = sum(len(zz.compress(json.dumps(p, separators=(",", ":")).encode())) for p in pages)
    print(f"zstd level {level}: {tot / records:.1f}")
