from __future__ import annotations

from django.db import migrations

PARTNER_PERMISSIONS = ["add_listing", "view_listing", "add_photo", "view_photo", "view_flag"]


def create_partners_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; the group needs them now.
    app_config = apps.get_app_config("listings")
    app_config.models_module = True  # the migration-state app config has none; it needs one
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="partners")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="listings", codename__in=PARTNER_PERMISSIONS
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_partners_group, migrations.RunPython.noop)]
