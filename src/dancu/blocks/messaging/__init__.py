"""Outgoing messages to citizens (SMS and e-mail): one adapter interface, drivers per channel
provider. Development drivers: ``console`` (the log, without the body's secret) and ``file``
(JSON lines under ``var/outbox/``). Selected by ``DANCU_MESSAGING_DRIVER`` (settings)."""
