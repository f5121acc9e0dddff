from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from registry.importers import RegisterFormatError
from registry.models import ImportReject, ImportRun, RegisterRecord
from registry.selectors import (
    LATEST_ROWS,
    register_current_for_plate,
    register_history_for_plate,
    register_records_for_plate,
    register_records_for_vin,
)
from registry.services import register_import

pytestmark = pytest.mark.django_db


def test_it_imports_a_file_and_records_the_run(samples: Path) -> None:
    run = register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    assert run.status == ImportRun.Status.DONE
    assert (run.rows_read, run.rows_inserted, run.rows_duplicate, run.rows_rejected) == (6, 6, 0, 0)
    assert (run.variant, run.encoding) == ("2023+", "utf-8")
    lexus = RegisterRecord.objects.get(vin="JTHCK262882026114")
    assert (lexus.plate, lexus.plate_latin, lexus.make_norm, lexus.model_norm) == (
        "АХ1312КК",
        "AX1312KK",
        "LEXUS",
        "IS 250",
    )
    assert (lexus.colour_canonical, lexus.import_run_id, lexus.line) == ("red", run.pk, 5)


def test_reimporting_the_same_file_changes_nothing(samples: Path) -> None:
    register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    before = list(RegisterRecord.objects.order_by("id").values())
    forced = register_import(
        path=samples / "register_2024.csv", force=True, enqueue_crosscheck=False
    )
    skipped = register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    assert list(RegisterRecord.objects.order_by("id").values()) == before
    assert (forced.rows_inserted, forced.rows_duplicate) == (0, 6)
    assert skipped.rows_read == 0
    assert "skipped" in skipped.error


def test_the_same_rows_in_another_encoding_or_a_zip_are_duplicates(samples: Path) -> None:
    register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    for name in ("register_2024_bom.csv", "register_2024_cp1251.csv", "register_2024.zip"):
        run = register_import(path=samples / name, enqueue_crosscheck=False)
        assert (run.rows_inserted, run.rows_duplicate) == (0, 6), name
    assert RegisterRecord.objects.count() == 6


def test_malformed_rows_go_to_rejects_with_line_numbers(samples: Path) -> None:
    run = register_import(path=samples / "register_malformed.csv", enqueue_crosscheck=False)
    assert (run.rows_read, run.rows_inserted, run.rows_rejected) == (8, 2, 6)
    assert list(ImportReject.objects.filter(run=run).values_list("line", flat=True)) == [
        3,
        4,
        5,
        6,
        7,
        10,
    ]
    assert RegisterRecord.objects.count() == 2


def test_the_latest_registration_is_the_current_record(samples: Path) -> None:
    register_import(path=samples / "register_2016.csv", enqueue_crosscheck=False)
    register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    history = list(register_records_for_plate(plate="аа 1234 вв"))
    assert [r.brand for r in history] == ["TOYOTA", "DAEWOO"]
    current = register_current_for_plate(plate="AA1234BB")
    assert current is not None
    assert current.model == "CAMRY"


def test_row_order_breaks_a_tie_on_the_same_day(tmp_path: Path, samples: Path) -> None:
    lines = (samples / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    resold = lines[1].replace('"БІЛИЙ"', '"ЧОРНИЙ"')  # same plate, same day, later row
    path = tmp_path / "tie.csv"
    path.write_text("\n".join([*lines, resold]) + "\n", encoding="utf-8")
    register_import(path=path, enqueue_crosscheck=False)
    current = register_current_for_plate(plate="AA1234BB")
    assert current is not None
    assert current.colour == "ЧОРНИЙ"


def _operation(line: str, *, day: str, code: str, name: str) -> str:
    """A 2023+ register line with another operation on another day."""
    fields = line.split(";")
    fields[2:5] = [f'"{code}"', f'"{name}"', day]
    return ";".join(fields)


def test_a_removal_is_the_plates_current_record_and_says_so(samples: Path, tmp_path: Path) -> None:
    # given the Camry of plate АА1234ВВ taken off the register for export after its sale
    register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    lines = (samples / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    removal = _operation(
        lines[1], day="02.05.24", code="520", name="ЗНЯТТЯ З ОБЛІКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН"
    )
    path = tmp_path / "removal.csv"
    path.write_text("\n".join([lines[0], removal]) + "\n", encoding="utf-8")
    register_import(path=path, enqueue_crosscheck=False)
    # when
    current = register_current_for_plate(plate="AA1234BB")
    # then the plate's latest operation is the removal, and it says so
    assert current is not None
    assert (current.d_reg.isoformat(), current.deregistered) == ("2024-05-02", True)
    assert not RegisterRecord.objects.get(oper_code=315, plate_latin="AA1234BB").deregistered


def test_a_same_day_registration_outranks_the_removal_of_the_plates_old_car(
    samples: Path, tmp_path: Path
) -> None:
    # given, on one day, the plate put on a Lexus and, on a later line, its Camry's removal
    lines = (samples / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    lexus = _operation(
        lines[4].replace("АХ1312КК", "АА1234ВВ"),
        day="10.01.25",
        code="315",
        name="ПЕРЕРЕЄСТРАЦІЯ НА НОВОГО ВЛАСНИКА ЗА ДОГОВОРОМ КУПІВЛІ-ПРОДАЖУ",
    )
    removal = _operation(
        lines[1], day="10.01.25", code="530", name="ЗНЯТТЯ З ОБЛIКУ ДЛЯ РЕАЛIЗАЦIЇ"
    )
    path = tmp_path / "same_day.csv"
    path.write_text("\n".join([lines[0], lines[1], lexus, removal]) + "\n", encoding="utf-8")
    register_import(path=path, enqueue_crosscheck=False)
    # when
    current = register_current_for_plate(plate="AA1234BB")
    first, older = register_history_for_plate(plate="AA1234BB")
    # then the plate is on the Lexus: it left the Camry before it could go on another car
    assert current is not None
    assert current.brand == "LEXUS"
    assert first == current
    assert [(r.brand, r.deregistered) for r in older] == [("TOYOTA", True), ("TOYOTA", False)]


def test_a_latest_day_with_many_operations_is_read_whole(samples: Path, tmp_path: Path) -> None:
    # given the plate put on a Lexus, then more removals of its Camry on that day than one
    # lookup reads
    lines = (samples / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    lexus = _operation(
        lines[4].replace("АХ1312КК", "АА1234ВВ"), day="10.01.25", code="315", name="ПЕРЕРЕЄСТРАЦІЯ"
    )
    removals = [
        _operation(lines[1], day="10.01.25", code="530", name=f"ЗНЯТТЯ З ОБЛІКУ ({n})")
        for n in range(LATEST_ROWS)
    ]
    path = tmp_path / "busy_day.csv"
    path.write_text("\n".join([lines[0], lexus, *removals]) + "\n", encoding="utf-8")
    register_import(path=path, enqueue_crosscheck=False)
    # when
    current = register_current_for_plate(plate="AA1234BB")
    # then
    assert current is not None
    assert current.brand == "LEXUS"


def test_2026_records_are_found_by_vin(samples: Path) -> None:
    run = register_import(path=samples / "register_2026.csv", enqueue_crosscheck=False)
    assert run.variant == "2026"
    [record] = register_records_for_vin(vin="jthck262882026114")
    assert (record.plate, record.plate_latin, record.make_norm) == ("", "", "LEXUS")
    assert register_records_for_plate(plate="").count() == 0


def test_a_refused_file_is_a_failed_run(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("A;B\n1;2\n", encoding="utf-8")
    with pytest.raises(RegisterFormatError):
        register_import(path=path, enqueue_crosscheck=False)
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    assert "not a register file" in run.error


def test_the_command_imports_files_and_prints_a_summary(samples: Path, capsys) -> None:
    call_command(
        "import_register",
        str(samples / "register_2024.csv"),
        str(samples / "register_malformed.csv"),
        "--no-progress",
    )
    out = capsys.readouterr().out
    assert "register_2024.csv: run" in out
    assert "new 6" in out
    assert "rejected 6" in out
    assert ImportRun.objects.count() == 2


def test_admin_lists_runs_and_downloads_rejects(samples: Path, admin_client) -> None:
    run = register_import(path=samples / "register_malformed.csv", enqueue_crosscheck=False)
    page = admin_client.get(reverse("admin:registry_importrun_changelist"))
    assert page.status_code == 200
    assert b"6 rejects (CSV)" in page.content
    response = admin_client.get(reverse("admin:registry_importrun_rejects", args=[run.pk]))
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert body.splitlines()[0] == "run,file,source,line,reason,raw"
    assert len(body.strip().splitlines()) == 7
    assert ",10,bad encoding (not utf-8)," in body


def test_admin_searches_records_by_plate_and_vin(samples: Path, admin_client) -> None:
    register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    url = reverse("admin:registry_registerrecord_changelist")
    by_plate = admin_client.get(url, {"q": "ах 1312 кк"})
    by_vin = admin_client.get(url, {"q": "jthck262882026114"})
    assert by_plate.status_code == by_vin.status_code == 200
    assert "IS 250" in by_plate.content.decode()
    assert "IS 250" in by_vin.content.decode()
    assert "CAMRY" not in by_plate.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_forced_reimport_finds_every_row_known_and_ids_follow_the_lines(
    samples: Path, tmp_path: Path
) -> None:
    lines = (samples / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    body = [lines[1].replace("АА1234ВВ", f"КА{n:04d}АА") for n in range(2500)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join([lines[0], *body, *lines[1:]]) + "\n", encoding="utf-8")
    run = register_import(path=path, enqueue_crosscheck=False)
    again = register_import(path=path, force=True, enqueue_crosscheck=False)
    assert (run.rows_inserted, run.rows_duplicate) == (2506, 0)
    assert (again.rows_inserted, again.rows_duplicate) == (0, 2506)
    lines_in_id_order = list(RegisterRecord.objects.order_by("id").values_list("line", flat=True))
    assert lines_in_id_order == sorted(lines_in_id_order)


def test_a_zip_member_name_is_kept_on_rejects(samples: Path, tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(samples / "register_malformed.csv", "inner.csv")
    run = register_import(path=path, enqueue_crosscheck=False)
    assert set(ImportReject.objects.filter(run=run).values_list("source", flat=True)) == {
        "bad.zip:inner.csv"
    }


def test_the_demo_register_imports(demo_register: Path, tmp_path: Path) -> None:
    copy = tmp_path / demo_register.name
    shutil.copy(demo_register, copy)
    run = register_import(path=copy, enqueue_crosscheck=False)
    assert run.rows_rejected == 0
    for plate in ("AA1234BB", "BC7777AX", "KA0101AM", "AX1312KK"):
        assert register_current_for_plate(plate=plate) is not None, plate


def test_backslashes_tabs_and_long_values_survive_copy(samples: Path, tmp_path: Path) -> None:
    lines = (samples / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    odd = (
        lines[1]
        .replace('"CAMRY"', '"CAMRY\\\\2.5\tHYBRID"')
        .replace('"ТСЦ 8041"', f'"{"Д" * 300}"')
    )
    path = tmp_path / "odd.csv"
    path.write_text("\n".join([lines[0], odd]) + "\n", encoding="utf-8")
    register_import(path=path, enqueue_crosscheck=False)
    record = RegisterRecord.objects.get()
    assert record.model == "CAMRY\\\\2.5\tHYBRID"
    assert record.dep == "Д" * 255  # cut to the column's width instead of failing the round


def test_the_command_checks_every_file_before_importing_any(samples: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such file: missing.csv"):
        call_command("import_register", str(samples / "register_2024.csv"), "missing.csv")
    assert not ImportRun.objects.exists()


@pytest.mark.django_db(transaction=True)  # as the command runs: no transaction around the import
def test_a_utf16_file_without_a_byte_order_mark_is_a_failed_run_that_says_so(
    samples: Path, tmp_path: Path
) -> None:
    path = tmp_path / "utf16le.csv"
    path.write_bytes(
        (samples / "register_2024.csv").read_text(encoding="utf-8").encode("utf-16-le")
    )
    with pytest.raises(RegisterFormatError, match="UTF-16-LE"):
        register_import(path=path, enqueue_crosscheck=False)
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    assert run.error.startswith("file is UTF-16-LE (without a byte order mark)")


def test_a_failure_message_with_control_characters_is_stored_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry import services

    def refused(path: Path, **kwargs: object) -> None:
        raise RegisterFormatError("header: \x00\x05PERSON\x1b[31m;\tD_REG")

    monkeypatch.setattr(services, "open_register", refused)
    path = tmp_path / "any.csv"
    path.write_text("x\n", encoding="utf-8")
    with pytest.raises(RegisterFormatError):
        register_import(path=path, enqueue_crosscheck=False)
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    assert run.error == "header: \\x00\\x05PERSON\\x1b[31m;\tD_REG (nothing imported)"


def test_a_binary_header_is_a_failed_run_that_says_so(tmp_path: Path) -> None:
    path = tmp_path / "._register.csv"
    path.write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02" + b"\x00" * 40)
    with pytest.raises(RegisterFormatError):
        register_import(path=path, enqueue_crosscheck=False)
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    assert run.error == (
        "._register.csv: the header holds NUL bytes: not a text file (nothing imported)"
    )


def test_a_zip_made_on_macos_imports_without_its_metadata_members(
    samples: Path, tmp_path: Path
) -> None:
    import zipfile

    path = tmp_path / "mac.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(samples / "register_2024.csv", "register_2024.csv")
        archive.writestr(
            "__MACOSX/._register_2024.csv",
            b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02" + b"\x00" * 200,
        )
    run = register_import(path=path, enqueue_crosscheck=False)
    assert (run.status, run.rows_inserted, run.rows_rejected) == (ImportRun.Status.DONE, 6, 0)


def test_zip_members_of_the_same_name_are_each_imported(samples: Path, tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(samples / "register_malformed.csv", "register.csv")
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.write(samples / "register_2021.csv", "register.csv")
    run = register_import(path=path, enqueue_crosscheck=False)
    assert (run.rows_inserted, run.rows_rejected) == (2 + 6, 6)
    assert set(RegisterRecord.objects.values_list("d_reg__year", flat=True)) == {2021, 2025}
    assert set(ImportReject.objects.filter(run=run).values_list("source", flat=True)) == {
        "dup.zip:register.csv"
    }
