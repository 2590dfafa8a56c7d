"""Audit block: who read or changed whose personal data, for what purpose, with what result.

Law 91/2025/QH15 on Personal Data Protection (data subject's right to know and access) and
Decree 356/2025/NĐ-CP: every processing of personal data is recorded, and the citizen can see
the record. Events are append-only; a sealing job chains them with SHA-256 so that an edit or a
deletion after sealing is detected (see docs/adr/0004-audit-hash-chain.md).
"""
