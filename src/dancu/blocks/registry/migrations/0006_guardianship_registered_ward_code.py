"""Where a guardianship was registered: the commune of the ward's or of the guardian's place of
residence (Law on Civil Status 2014 Art. 19; ADR 0017 §15). Rows from before are
left empty: only the ward's commune could record them, and which commune that was is not known
once the ward has moved."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_sqlite_self_link_indexes")]

    operations = [
        migrations.AddField(
            model_name="guardianship",
            name="registered_ward_code",
            field=models.CharField(blank=True, default="", max_length=5),
        ),
    ]
