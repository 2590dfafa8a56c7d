"""Population registry block (cơ sở dữ liệu dân cư).

Citizens, households, residence, old identity numbers, ID-number history and cards; every change
is a versioned revision (who, when, why, legal basis). Access only through ``services`` with an
``AccessContext``: the purpose is checked and every read or write is audited.
"""
