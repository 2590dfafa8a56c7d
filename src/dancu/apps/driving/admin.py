from django.contrib import admin

from dancu.apps.driving.models import DrivingSite


@admin.register(DrivingSite)
class DrivingSiteAdmin(admin.ModelAdmin):
    """Platform administrators designate which driving_school organisations are test centres."""

    list_display = ("organisation_id", "role")
