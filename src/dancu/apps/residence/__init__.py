"""Residence notification (thông báo lưu trú), issue 6: establishments report their guests."""
