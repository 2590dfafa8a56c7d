"""Electronic identification accounts (VNeID-like, Decree 69/2024/NĐ-CP): level 1 and level 2
accounts of citizens, organisation accounts, authentication factors (password, TOTP, one-time
codes, QR log-in from the citizen's device), brute-force protection and sessions (model 24).

The OpenID Connect provider that relying parties use sits in ``blocks/sso`` and reads a log-in's
assurance through :mod:`dancu.blocks.eid.assurance`.
"""
