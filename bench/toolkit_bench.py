#!/usr/bin/env python3
"""Times the voicevault tool against its references in one run (see bench/run.sh).

Every measurement is a whole process: wall time and peak RSS (ru_maxrss from wait4), page
cache warm, the median of --runs runs. Ratios are against references measured in the same run."""
import argparse, base64, json, os, shutil, statistics, subprocess, sys, time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_ENCRYPT = os.path.join(HERE, "reference_encrypt.py")
REFERENCE = os.path.join(HERE, "..", "tests", "VoiceVault.Cli.Tests", "interop", "reference_decrypt.py")
GiB = 1 << 30
RSS_FILE = "/tmp/voicevault-bench-rss"


def run_once(argv, before=None):
    """Wall seconds and peak RSS (MiB) of one run, RSS from GNU time (wait4 of a small parent)."""
    if before:
        before()
    os.sync()
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", RSS_FILE, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{proc.stderr.decode()}")
    with open(RSS_FILE) as f:
        return wall, int(f.read().split()[-1]) / 1024


def measure(commands, runs):
    """Runs each (argv, before) of `commands` in turn, `runs` rounds interleaved so that the
    machine's noise hits all of them alike. Returns {name: (median wall, max RSS)}."""
    walls = {name: [] for name in commands}
    rss = {name: 0.0 for name in commands}
    for _ in range(runs):
        for name, (argv, before) in commands.items():
            wall, peak = run_once(argv, before)
            walls[name].append(wall)
            rss[name] = max(rss[name], peak)
    return {name: (statistics.median(walls[name]), rss[name], min(walls[name])) for name in commands}


def warm(*paths):
    for path in paths:
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass


def remove(*paths):
    def go():
        for path in paths:
            if os.path.exists(path):
                os.remove(path)
    return go


def make_plaintext(path, size):
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    # Fast pseudo-random bytes: AES-CTR of zeros, streamed by openssl.
    with open(path, "wb") as out:
        gen = subprocess.Popen(["openssl", "enc", "-aes-128-ctr", "-nosalt", "-pass", "pass:voicevault-bench", "-in", "/dev/zero"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        left = size
        while left:
            chunk = gen.stdout.read(min(left, 1 << 24))
            out.write(chunk)
            left -= len(chunk)
        gen.kill()
        gen.wait()


def large(tool, work, out_dir, size, runs, py_runs, rows):
    label = f"{size // GiB} GiB"
    plain, enc = (os.path.join(work, f"{size // GiB}g.{x}") for x in ("wav", "enc"))
    out = os.path.join(out_dir, f"{size // GiB}g.out")
    details = enc + ".json"
    key = os.path.join(work, "bench.pem")
    make_plaintext(plain, size)
    if not os.path.exists(details):
        run_once([tool, "encrypt", plain, "--public-key", key + ".pub", "-o", enc, "--quiet"])
    fresh_out = lambda src: (lambda: (remove(out, out + ".json")(), warm(src)))
    m = measure({
        "encrypt": ([tool, "encrypt", plain, "--public-key", key + ".pub", "-o", out, "--details-out", out + ".json", "--quiet"], fresh_out(plain)),
        "cp_plain": (["cp", plain, out], fresh_out(plain)),
        "decrypt": ([tool, "decrypt", enc, "--key", key, "--details", details, "-o", out, "--quiet"], fresh_out(enc)),
        "cp_enc": (["cp", enc, out], fresh_out(enc)),
    }, runs)
    p = measure({
        "python_dec_16k": ([sys.executable, REFERENCE, key, details, enc, out], fresh_out(enc)),
        "python_dec_1m": ([sys.executable, REFERENCE, key, details, enc, out, "--chunk", str(1 << 20)], fresh_out(enc)),
        "python_enc_16k": ([sys.executable, REFERENCE_ENCRYPT, key + ".pub", plain, out], fresh_out(plain)),
    }, py_runs)
    remove(out, out + ".json")()
    for op, cp, py16, py1m in (("decrypt", "cp_enc", "python_dec_16k", "python_dec_1m"), ("encrypt", "cp_plain", "python_enc_16k", None)):
        wall, rss, best = m[op]
        row = {"size": label, "op": op, "target": out_dir, "wall_s": wall, "min_s": best, "peak_rss_mib": rss,
               "cp_s": m[cp][0], "cp_min_s": m[cp][2], "ratio_vs_cp": wall / m[cp][0], "ratio_vs_cp_min": best / m[cp][2],
               "python_16k_s": p[py16][0], "speedup_vs_python_16k": p[py16][0] / wall}
        if py1m:
            row.update({"python_1m_s": p[py1m][0], "speedup_vs_python_1m": p[py1m][0] / wall})
        rows.append(row)


def batch(tool, work, count, runs):
    src, key = os.path.join(work, "batch-in"), os.path.join(work, "bench.pem")
    with open(key + ".pub", "rb") as f:
        public = serialization.load_pem_public_key(f.read())
    if not os.path.isdir(src) or len(os.listdir(src)) != 2 * count:
        shutil.rmtree(src, ignore_errors=True)
        os.makedirs(src)
        body = os.urandom(480_000)  # 30 s of 8 kHz 16-bit mono
        header = b"RIFF" + (36 + len(body)).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little") + \
            bytes([1, 0, 1, 0]) + (8000).to_bytes(4, "little") + (16000).to_bytes(4, "little") + bytes([2, 0, 16, 0]) + \
            b"data" + len(body).to_bytes(4, "little")
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        for i in range(count):
            sid = f"RE{i:032x}"
            cek, iv = os.urandom(32), os.urandom(12)
            with open(os.path.join(src, sid + ".wav"), "wb") as f:
                f.write(AESGCM(cek).encrypt(iv, header + body, None))
            with open(os.path.join(src, sid + ".json"), "w") as f:
                json.dump({"sid": sid, "encryption_details": {"type": "rsa-aes", "encryption_public_key_sid": "CR" + "0" * 32,
                           "encryption_cek": base64.b64encode(public.encrypt(cek, oaep)).decode(), "iv": base64.b64encode(iv).decode()}}, f)
    out = os.path.join(work, "batch-out")
    clean = lambda: shutil.rmtree(out, ignore_errors=True)
    m = measure({jobs: ([tool, "decrypt", "--batch", src, "--key", key, "--out", out, "--jobs", str(jobs), "--quiet"], clean) for jobs in (1, 2)}, runs)
    results = {jobs: {"wall_s": wall, "recordings_per_s": count / wall, "peak_rss_mib": rss} for jobs, (wall, rss, _) in m.items()}
    shutil.rmtree(os.path.join(work, "batch-out"), ignore_errors=True)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="1,4", help="GiB sizes, comma-separated")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--targets", default="disk,tmpfs",
                        help="where outputs go: disk (beside the inputs) and/or tmpfs (/dev/shm, no disk writeback)")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    key = os.path.join(args.work, "bench.pem")
    if not os.path.exists(key):
        subprocess.run([args.tool, "keygen", "--out", key, "--public-out", key + ".pub", "--bits", "2048"], check=True, capture_output=True)
    rows = []
    targets = {"disk": args.work, "tmpfs": "/dev/shm"}
    for target in args.targets.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"measuring {size} GiB, output on {target} ...", file=sys.stderr)
            large(args.tool, args.work, targets[target], size * GiB, args.runs, 3 if size > 1 else args.runs, rows)
    print(f"measuring a batch of {args.batch} ...", file=sys.stderr)
    batched = batch(args.tool, args.work, args.batch, args.runs)

    lines = [f"medians of {args.runs} interleaved runs (min in brackets); page cache warm; Python loops: 3 runs at 4 GiB", "",
             "| output on | size | op | voicevault s | cp s | ratio vs cp | peak RSS MiB | python 16 KiB loop s | speed-up | python 1 MiB loop s | speed-up |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        py1m = f"{r['python_1m_s']:.2f} | {r['speedup_vs_python_1m']:.1f}x" if "python_1m_s" in r else "– | –"
        lines.append(f"| {'tmpfs' if r['target'] == '/dev/shm' else 'disk'} | {r['size']} | {r['op']} | {r['wall_s']:.3f} ({r['min_s']:.3f}) | "
                     f"{r['cp_s']:.3f} ({r['cp_min_s']:.3f}) | {r['ratio_vs_cp']:.2f}x ({r['ratio_vs_cp_min']:.2f}x) | {r['peak_rss_mib']:.1f} | "
                     f"{r['python_16k_s']:.2f} | {r['speedup_vs_python_16k']:.1f}x | {py1m} |")
    lines += ["", f"batch of {args.batch} recordings of 30 s (480 KB), 2048-bit keys:", "",
              "| workers | wall s | recordings/s | peak RSS MiB |", "|---|---|---|---|"]
    for jobs, b in batched.items():
        lines.append(f"| {jobs} | {b['wall_s']:.2f} | {b['recordings_per_s']:.0f} | {b['peak_rss_mib']:.1f} |")
    lines.append(f"\nscaling 1 -> 2 workers: {batched[2]['recordings_per_s'] / batched[1]['recordings_per_s']:.2f}x")
    report = "\n".join(lines)
    print(report)
    with open(os.path.join(args.work, "results.md"), "w") as f:
        f.write(report + "\n")
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump({"large": rows, "batch": batched}, f, indent=2)


if __name__ == "__main__":
    main()
