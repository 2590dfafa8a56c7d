"""HTTP API of the administrative-units block."""

from ninja import Router

router = Router(tags=["Đơn vị hành chính / Administrative units"])
