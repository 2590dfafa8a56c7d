"""Benchmark: a ten-million-row sector file uploaded to a cleaning job through the browser's path
(issue 8, "Bad input": 10-million-row files are streamed, not loaded whole).

What runs: a CSV of ``--rows`` rows (the columns of a commune list: number, full name, date of
birth, sex, ID number, address; Vietnamese text, UTF-8) is written to disk together with the
multipart/form-data envelope a browser sends (not timed). Then, **timed**, the envelope is POSTed
to ``/cleaning/`` by Django's test client as an officer of a city department — the request body
handed to Django as a file (``wsgi.input``), so that the client holds none of it in memory:
Django's multipart parser (the upload spooled to a temporary file), the upload form, the view and
``linkage.services.upload`` (SHA-256 of the file, the CSV read to its end into a Parquet staging
file, the job stored; over ``DANCU_CLEANING_WEB_MAX_ROWS`` rows the job is a *scale* job whose rows
stay staged). Everything between the request and the redirect to the job runs in this process.

Peak memory is this process's peak RSS **during the request** (``VmHWM`` of ``/proc/self/status``,
its high-water mark reset just before the request by writing 5 to ``/proc/self/clear_refs``).

The database is PostgreSQL (``--database``, created and migrated if missing; the job and its
staged file are removed at the end).

    .venv/bin/python bench/cleaning_upload_bench.py --rows 1000000 --database dancu_upload_bench
    .venv/bin/python bench/cleaning_upload_bench.py --database dancu_upload_bench  # 10,000,000 rows
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

BOUNDARY = "----dancuUploadBench7MA4YWxkTrZu0gW"
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Ngọc", "Quốc", "Hữu"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Hà", "Hằng", "Hùng", "Lan", "Long", "Mai", "Nam", "Quý", "Thảo"]
STREETS = ["ngõ 5 Âu Cơ", "số 12 Lạc Long Quân", "tổ 3 Nhật Tân", "ngách 2/7 Xuân Diệu"]
WARDS = ["Tây Hồ", "Phú Thượng", "Hồng Hà", "Ba Đình"]


def write_envelope(path: Path, rows: int, seed: int) -> int:
    """The multipart body of a form with one file field ``file`` holding a CSV of ``rows`` rows."""
    rnd = random.Random(seed)
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="danh-sach-ho-ngheo.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    )
    with path.open("wb") as fh:
        fh.write(head.encode())
        fh.write("STT,Họ và tên,Ngày sinh,Giới tính,Số CCCD/CMND,Địa chỉ\r\n".encode())
        lines: list[str] = []
        for i in range(1, rows + 1):
            name = f"{rnd.choice(FAMILY)} {rnd.choice(MIDDLE)} {rnd.choice(GIVEN)}"
            dob = f"{rnd.randint(1, 28):02d}/{rnd.randint(1, 12):02d}/{rnd.randint(1940, 2010)}"
            ident = f"0010{rnd.randint(0, 99_999_999):08d}" if i % 5 else ""
            address = f'"{rnd.choice(STREETS)}, {rnd.choice(WARDS)}, Hà Nội"'
            lines.append(f"{i},{name},{dob},{'Nam' if i % 2 else 'Nữ'},{ident},{address}\r\n")
            if len(lines) == 10_000:
                fh.write("".join(lines).encode())
                lines.clear()
        fh.write("".join(lines).encode())
        fh.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return path.stat().st_size


def peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status")


def current_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit("no VmRSS in /proc/self/status")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--database", default="dancu_upload_bench")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--json", type=Path, help="write the result here too")
    args = ap.parse_args()

    from _machine import machine
    from _setup import create_database, start_django

    tmp = Path(tempfile.mkdtemp(prefix="cleaning-upload-bench-"))
    body = tmp / "envelope"
    t = time.perf_counter()
    size = write_envelope(body, args.rows, args.seed)
    print(
        f"envelope {size / 2**20:,.1f} MiB with {args.rows:,} rows in {time.perf_counter() - t:.0f} s",
        flush=True,
    )

    create_database(args.server, args.database)
    start_django(
        f"{args.server}/{args.database}",
        "upload-bench-not-secret-" + "x" * 40,
        ALLOWED_HOSTS="testserver",
        DANCU_LINKAGE_MODEL_DIR=str(tmp / "linkage"),
        LOG_LEVEL="WARNING",
    )
    from django.contrib.auth import get_user_model
    from django.test import Client

    from dancu.apps.web.sso import SESSION_KEY as SSO_MARK
    from dancu.blocks.eid import assurance
    from dancu.blocks.linkage.models import CleaningJob
    from dancu.blocks.organisations.models import Organisation
    from dancu.blocks.organisations.services import add_member

    user, created = get_user_model().objects.get_or_create(username="bench.upload.labour")
    org, _ = Organisation.objects.get_or_create(
        code="BENCH-SO-LD",
        defaults={"name": "Sở Nội vụ (bench)", "kind": "department", "jurisdiction_province_code": "01"},
    )
    if created:
        add_member(user, org, "officer")
    CleaningJob.objects.filter(organisation_id=org.pk).delete()  # an earlier run's job: not a duplicate
    client = Client()
    client.force_login(user)
    session = client.session  # signed in to the staff pages through SSO (ADR 0011), level 1
    session[SSO_MARK] = {"user_id": user.pk, "acr": assurance.ACR_L1}
    session.save()

    load_start = os.getloadavg()[0]
    started = datetime.now(UTC)
    rss_before = current_rss_kib()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM) to the current RSS
    t = time.perf_counter()
    with body.open("rb") as fh:
        response = client.request(
            REQUEST_METHOD="POST",
            PATH_INFO="/cleaning/",
            CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
            CONTENT_LENGTH=str(size),
            **{"wsgi.input": fh},
        )
    seconds = time.perf_counter() - t
    peak = peak_rss_kib()
    load_end = os.getloadavg()[0]
    job = CleaningJob.objects.filter(organisation_id=org.pk).order_by("-pk").first()
    staged = (tmp / "linkage" / job.staged_file) if job and job.staged_file else None
    out: dict[str, Any] = {
        "rows": args.rows,
        "file_bytes": size,
        "status": response.status_code,
        "redirect": response.get("Location", ""),
        "job_rows": job.row_count if job else None,
        "job_scale": job.scale if job else None,
        "staged_parquet_bytes": staged.stat().st_size if staged and staged.exists() else None,
        "seconds": round(seconds, 1),
        "rows_per_s": round(args.rows / seconds),
        "rss_before_request_mib": round(rss_before / 1024, 1),
        "peak_rss_during_request_mib": round(peak / 1024, 1),
        "load_1min_start": round(load_start, 2),
        "load_1min_end": round(load_end, 2),
        "started_at": started.isoformat(timespec="seconds"),
        "machine": dataclasses.asdict(machine()),
    }
    if job:
        job.delete()
    for p in sorted(tmp.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    tmp.rmdir()
    text = json.dumps(out, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    ok = response.status_code == 302 and out["job_rows"] == args.rows
    print(("PASS" if ok else "FAIL") + f"  {args.rows:,} rows accepted as one job ({response.status_code})")


if __name__ == "__main__":
    main()
