"""Organisations block: agencies and establishments, their staff memberships and roles.

What a member may do is decided here (``policy``): the organisation's kind and the member's role
give the purposes they may invoke, and the organisation's jurisdiction limits whose records they
see (data-layer scoping: a commune police officer sees residents of that commune only).
"""
