"""``dancu exchange seal|verify|export``: the message log's evidence (ADR 0010).

* ``seal`` chains the unsealed messages and stores a signed checkpoint (run it every few
  seconds from a timer, like ``audit_seal``);
* ``verify`` verifies the whole chain, or with ``--bundle FILE`` one evidence bundle
  (``--gateway-key`` names the gateway public key the verifier trusts); exit 1 on any finding,
  each naming the record (seq and message id) and what is wrong;
* ``export MESSAGE_ID`` prints the evidence bundle of one exchange (JSON);
* ``deliver`` sends the due change notifications to the subscribers' webhooks (run it from a
  timer; failures are retried with back-off, never dropped);
* ``rewrap --old-secret-env VAR`` seals every subsystem's signing key again under the current
  ``SECRET_KEY`` after a rotation (the old secret is read from the environment variable ``VAR``,
  never from the command line, which other users of the machine can see); all or nothing,
  idempotent (``services.rewrap_keys``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.blocks.exchange import evidence


class Command(BaseCommand):
    help = "Seal, verify or export the data exchange message log (issue 5, ADR 0010)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("seal", help="chain unsealed messages and sign a checkpoint")
        sub.add_parser("deliver", help="send due change notifications to webhooks (with retries)")
        verify = sub.add_parser("verify", help="verify the whole chain, or one bundle")
        verify.add_argument("--bundle", type=Path, help="an evidence bundle (JSON) to verify")
        verify.add_argument("--gateway-key", default=None, help="the trusted gateway public key (base64)")
        export = sub.add_parser("export", help="print the evidence bundle of one message")
        export.add_argument("message_id", type=int)
        rewrap = sub.add_parser("rewrap", help="re-seal the subsystems' keys after SECRET_KEY rotation")
        rewrap.add_argument(
            "--old-secret-env",
            required=True,
            metavar="VAR",
            help="the environment variable holding the previous SECRET_KEY",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "seal":
            self.stdout.write(f"sealed {evidence.seal()} messages")
            return
        if action == "deliver":
            from dancu.blocks.exchange.notifications import deliver_due

            done, retried = deliver_due()
            self.stdout.write(f"delivered {done}, rescheduled {retried}")
            return
        if action == "rewrap":
            self._rewrap(options["old_secret_env"])
            return
        if action == "export":
            from dancu.blocks.exchange.models import Message

            if not Message.objects.filter(pk=options["message_id"]).exists():
                raise CommandError(f"no message {options['message_id']}")
            self.stdout.write(
                json.dumps(evidence.export_bundle(options["message_id"]), ensure_ascii=False, indent=2)
            )
            return
        bundle_path: Path | None = options.get("bundle")
        if bundle_path is not None:
            try:
                bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"--bundle: cannot read {bundle_path}: {exc}") from None
            if not isinstance(bundle, dict):
                raise CommandError("--bundle: not a JSON object")
            report = evidence.verify_bundle(bundle, trusted_gateway_key=options.get("gateway_key"))
            what = f"bundle of message {bundle.get('record', {}).get('id')}"
        else:
            report = evidence.verify_chain()
            what = f"message log chain: {report.checked} records"
        if not report.ok:
            for p in report.problems:
                self.stderr.write(str(p))
            raise CommandError(f"{what}: {len(report.problems)} problem(s), first: {report.problems[0]}")
        self.stdout.write(f"{what} verified")

    def _rewrap(self, variable: str) -> None:
        import os

        from dancu.blocks.exchange.crypto import KeyUnavailable
        from dancu.blocks.exchange.services import rewrap_keys

        old_secret = os.environ.get(variable, "")
        if not old_secret:
            raise CommandError(f"--old-secret-env: the environment variable {variable} is not set or empty")
        try:
            report = rewrap_keys(old_secret)
        except KeyUnavailable as exc:
            raise CommandError(f"nothing changed: {exc}") from None
        self.stdout.write(
            f"re-sealed {len(report.rewrapped)} subsystem key(s); "
            f"{len(report.current)} already under the current SECRET_KEY"
        )
