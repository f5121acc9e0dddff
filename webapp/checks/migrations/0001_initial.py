"""Flag moves from the listings app to this one: the table (listings_flag) and its rows stay.

State only: the model is created here and deleted from listings (listings 0004) without any SQL;
the content type moves with it, so permissions already granted (the partners' view_flag) and
admin log entries keep pointing at the same rows.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label="checks", model="flag").exists():
        return
    ContentType.objects.filter(app_label="listings", model="flag").update(app_label="checks")


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label="listings", model="flag").exists():
        return
    ContentType.objects.filter(app_label="checks", model="flag").update(app_label="listings")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("listings", "0003_photo_lease"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Flag",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("plate_not_in_register", "Plate not in register"),
                                    ("make_mismatch", "Make mismatch"),
                                    ("model_mismatch", "Model mismatch"),
                                    ("colour_mismatch", "Colour mismatch"),
                                    ("year_mismatch", "Year mismatch"),
                                    ("multiple_plates", "Multiple plates"),
                                    ("declared_plate_mismatch", "Declared plate mismatch"),
                                    ("vin_mismatch", "VIN mismatch"),
                                    ("plate_on_other_listing", "Plate on another listing"),
                                ],
                                max_length=32,
                            ),
                        ),
                        ("key", models.CharField(blank=True, max_length=64)),
                        (
                            "severity",
                            models.PositiveSmallIntegerField(
                                choices=[(1, "Low"), (2, "Medium"), (3, "High")]
                            ),
                        ),
                        ("evidence", models.JSONField(default=dict)),
                        ("evidence_hash", models.CharField(max_length=64)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("open", "Open"),
                                    ("confirmed", "Confirmed"),
                                    ("dismissed", "Dismissed"),
                                ],
                                default="open",
                                max_length=16,
                            ),
                        ),
                        ("plate_text", models.CharField(blank=True, db_index=True, max_length=16)),
                        ("plate_format", models.CharField(blank=True, max_length=16)),
                        ("reviewed_at", models.DateTimeField(blank=True, null=True)),
                        ("note", models.TextField(blank=True)),
                        ("version", models.PositiveIntegerField(default=1)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "reviewer",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="reviewed_flags",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "listing",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="flags",
                                to="listings.listing",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "listings_flag",
                        "ordering": ["status", "-severity", "created_at"],
                        "indexes": [
                            models.Index(
                                fields=["status", "-severity", "created_at"], name="flag_queue_idx"
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("listing", "kind", "key"), name="flag_unique_kind_key"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
