"""Administrative units block: the current units (34 provinces, 3,321 communes since 01/07/2025,
Resolution 202/2025/QH15), the legacy units (63 provinces, districts, wards) and the old→new
crosswalk; an address normaliser for addresses as printed on cards."""
