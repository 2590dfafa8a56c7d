"""Identity documents: the card QR, the MRZ, the chip (ICAO 9303 eMRTD) and their verification.

Pure parsers and generators live here beside the chip PKI and passive authentication; the
``verify()`` service matches checked evidence against the registry (models 6, 7, 8, 16, 17).
"""
