"""Benchmark: passive authentication of a full chip read on one core.

Target (issue: identity block, chip): ≥ 500 passive authentications per second on one core.

What one verification is: ``dancu.blocks.identity.chip.passive_authentication`` on the files a
reader app posts for a Vietnamese card — DG1 (TD1 MRZ), DG2 (a 240×320 JPEG face, 15–20 kB),
DG13 and EF.SOD (ECDSA P-256 / SHA-256 Document Signer, synthetic CSCA) — i.e. parse the SOD
and the LDSSecurityObject, find the DS certificate, check it against the trust store, check
validity and key usage, the signed attributes and the ECDSA signature, hash every data group,
and parse DG1, DG2 and DG13. The payload is decoded from base64 once, outside the timing
(``--with-decode`` times ``ChipData.from_dict`` too).

Two runs: **warm** — the DS certificate is parsed and its chain to the CSCA verified once, then
taken from the caches (``TrustStore`` per-DS chain cache, per-DER certificate cache), as in
production where one DS signs many cards; **cold** — both caches emptied before every
verification, so each one also parses the certificate and verifies the CSCA's signature on it.

    .venv/bin/python bench/passive_auth_bench.py                 # 5,000 verifications per run
    .venv/bin/python bench/passive_auth_bench.py -n 20000 --json /tmp/pa.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from _machine import machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dancu.blocks.identity.chip import (  # noqa: E402
    CardHolder,
    ChipData,
    TrustStore,
    create_csca,
    create_document_signer,
    issue_chip,
    passive_authentication,
)
from dancu.blocks.identity.chip.verify import clear_certificate_cache  # noqa: E402

TARGET_PER_SECOND = 500


def _measure(label: str, n: int, warmup: int, verify_once: Callable[[], bool]) -> dict[str, object]:
    for _ in range(warmup):
        assert verify_once()
    latencies: list[int] = []
    clock = time.perf_counter_ns
    start = clock()
    for _ in range(n):
        t0 = clock()
        ok = verify_once()
        latencies.append(clock() - t0)
        if not ok:
            raise SystemExit(f"{label}: a verification failed")
    total = (clock() - start) / 1e9
    latencies.sort()
    result = {
        "run": label,
        "verifications": n,
        "seconds": round(total, 3),
        "per_second": round(n / total, 1),
        "p50_ms": round(statistics.median(latencies) / 1e6, 3),
        "p99_ms": round(latencies[int(0.99 * (n - 1))] / 1e6, 3),
        "max_ms": round(latencies[-1] / 1e6, 3),
    }
    verdict = "pass" if n / total >= TARGET_PER_SECOND else "FAIL"
    print(
        f"{label:<5} {n:>6} verifications in {total:6.2f} s: {n / total:8.1f}/s  "
        f"p50 {result['p50_ms']:.3f} ms  p99 {result['p99_ms']:.3f} ms  max {result['max_ms']:.3f} ms  "
        f"(target ≥ {TARGET_PER_SECOND}/s: {verdict})"
    )
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--verifications", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--with-decode", action="store_true", help="also time ChipData.from_dict (base64)")
    ap.add_argument("--json", type=Path, help="write the results to this file")
    args = ap.parse_args()

    os.sched_setaffinity(0, {0})  # one core
    csca = create_csca()
    ds = create_document_signer(csca)
    holder = CardHolder(
        id_number="001085012345",
        full_name="Nguyễn Văn An",
        date_of_birth=date(1985, 3, 2),
        sex="M",
        place_of_origin="Xã Tây Tựu, Huyện Từ Liêm, Hà Nội",
        place_of_residence="Số 12 ngõ 34, Phường Tây Hồ, Quận Tây Hồ, Hà Nội",
        issue_date=date(2021, 4, 1),
        expiry_date=date(2045, 3, 2),
        father_name="Nguyễn Văn Bình",
        mother_name="Trần Thị Chi",
        face_seed=20250701,
    )
    payload = issue_chip(holder, ds.private_key, ds.certificate).to_dict()  # what the reader app posts
    chip = ChipData.from_dict(payload)
    store = TrustStore([csca.certificate])
    at = datetime.now(UTC)
    sizes = {"sod": len(chip.sod)} | {f"dg{n}": len(v) for n, v in sorted(chip.data_groups.items())}

    def warm() -> bool:
        data = ChipData.from_dict(payload) if args.with_decode else chip
        return passive_authentication(data, store, at=at).ok

    def cold() -> bool:
        store.clear_cache()
        clear_certificate_cache()
        return warm()

    here = machine()
    load_before = here.load_average
    print(f"machine: nproc {here.nproc}, pinned to core 0, CPU {here.cpu}")
    print(f"python {here.python} on {here.platform}; load average {load_before[0]:.2f}")
    print("chip read: " + ", ".join(f"{k} {v:,} B" for k, v in sizes.items()))
    results = [
        _measure("warm", args.verifications, args.warmup, warm),
        _measure("cold", args.verifications, args.warmup, cold),
    ]
    load_after = os.getloadavg()
    print(f"1-minute load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "nproc": here.nproc,
                    "cpu": here.cpu,
                    "python": here.python,
                    "load_average_before_after": [load_before[0], load_after[0]],
                    "file_sizes": sizes,
                    "with_decode": args.with_decode,
                    "target_per_second": TARGET_PER_SECOND,
                    "results": results,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
