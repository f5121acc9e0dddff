"""deploy/install-systemd.sh run for real on a copy of the checkout, with /etc under DESTDIR and
the system's edge (getent, groupadd, useradd, usermod, chown, systemctl) replaced by a recorder
that keeps its own passwd and group files: a fresh install must leave the account, the folders
the services write and the units in place, and a second run must change nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EDGE = ("getent", "groupadd", "useradd", "usermod", "chown", "systemctl")
# One program for every command of the edge; it looks at the name it was called by.
FAKE_EDGE = f"""#!{sys.executable}
import json, os, sys
from pathlib import Path

name, args = Path(sys.argv[0]).name, sys.argv[1:]
system = Path(os.environ["FAKE_SYSTEM"])


def lines(db):
    return (system / db).read_text().splitlines()


if name == "getent":
    found = [line for line in lines(args[0]) if line.split(":")[0] == args[1]]
    print(*found[:1])
    sys.exit(0 if found else 2)
with (system / "calls").open("a") as calls:
    calls.write(json.dumps([name, *args]) + "\\n")
if name == "groupadd":
    (system / "group").write_text("\\n".join([*lines("group"), args[-1] + ":x:990:"]) + "\\n")
elif name == "useradd":
    home, shell = args[args.index("--home-dir") + 1], args[args.index("--shell") + 1]
    entry = f"{{args[-1]}}:x:990:990::{{home}}:{{shell}}"
    (system / "passwd").write_text("\\n".join([*lines("passwd"), entry]) + "\\n")
elif name == "usermod":
    group, member = args[args.index("--groups") + 1], args[-1]
    rows = [r.split(":") for r in lines("group")]
    rows = [r[:3] + [",".join(filter(None, [r[3], member]))] if r[0] == group else r for r in rows]
    (system / "group").write_text("\\n".join(":".join(r) for r in rows) + "\\n")
"""


def _checkout(tmp_path: Path) -> Path:
    app = tmp_path / "srv" / "platecheck"
    shutil.copytree(REPO / "deploy", app / "deploy", ignore=shutil.ignore_patterns("pi", "env"))
    return app


def _system(tmp_path: Path) -> Path:
    """The fake edge: its programs first on PATH, and a machine with root and nginx's user."""
    system = tmp_path / "system"
    (system / "bin").mkdir(parents=True)
    fake = system / "bin" / "fake-edge"
    fake.write_text(FAKE_EDGE)
    fake.chmod(0o755)
    for name in EDGE:
        (system / "bin" / name).symlink_to(fake)
    (system / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    )
    (system / "group").write_text("root:x:0:\nwww-data:x:33:\n")
    (system / "calls").write_text("")
    return system


def _install(app: Path, system: Path, destdir: Path) -> list[list[str]]:
    """Runs the installer; returns the edge's calls it made."""
    (system / "calls").write_text("")
    env = {
        **os.environ,
        "PATH": f"{system / 'bin'}:{os.environ['PATH']}",
        "DESTDIR": str(destdir),
        "FAKE_SYSTEM": str(system),
    }
    done = subprocess.run(
        ["bash", str(app / "deploy" / "install-systemd.sh")],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line) for line in (system / "calls").read_text().splitlines()]


def _tree(*roots: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every path under the roots with its mode, modification time and content."""
    found = {}
    for root in roots:
        for path in [root, *sorted(root.rglob("*"))]:
            info = path.lstat()
            content = path.read_bytes() if path.is_file() else b""
            found[str(path)] = (info.st_mode, info.st_mtime_ns, content)
    return found


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _user(system: Path, name: str) -> list[str] | None:
    rows = [line.split(":") for line in (system / "passwd").read_text().splitlines()]
    return next((row for row in rows if row[0] == name), None)


def test_a_fresh_install_creates_the_account_folders_env_and_units(tmp_path):
    # given a checkout on a machine without the platecheck account
    app, system, destdir = _checkout(tmp_path), _system(tmp_path), tmp_path / "root"
    # when
    calls = _install(app, system, destdir)
    # then the units' account exists: a system user of its own group, no login shell
    assert ["groupadd", "--system", "platecheck"] in calls
    useradd = next(call for call in calls if call[0] == "useradd")
    assert {"--system", "--no-create-home"} <= set(useradd)
    assert useradd[useradd.index("--gid") + 1] == "platecheck"
    assert _user(system, "platecheck") == [
        "platecheck", "x", "990", "990", "", str(app / "var"), "/usr/sbin/nologin",
    ]  # fmt: skip
    # nginx may read the private folders through the group (X-Accel-Redirect, static files)
    assert ["usermod", "--append", "--groups", "platecheck", "www-data"] in calls
    # every folder the settings and units write to is there, the account's, private to it
    env_example = (app / "deploy" / "env.example").read_text()
    written = set(re.findall(r"^(?:MEDIA|STATIC)_ROOT=(\S+)$", env_example, re.M))
    units = (app / "deploy" / "systemd").glob("*.service")
    for unit in units:
        written |= {
            str(Path(path).parent) for path in re.findall(r"@APP_DIR@/(var/\S+)", unit.read_text())
        }
    assert written == {"var/media", "var/static", "var"}
    for folder in sorted(written):
        assert (app / folder).is_dir(), folder
        assert _mode(app / folder) == 0o750, folder
        assert ["chown", "platecheck:platecheck", str(app / folder)] in calls
    # a new environment file with its own key, readable by root and the group only
    env = destdir / "etc" / "platecheck" / "env"
    assert _mode(env) == 0o640
    assert ["chown", "root:platecheck", str(env)] in calls
    key = re.search(r"^SECRET_KEY=(.*)$", env.read_text(), re.M)
    assert key is not None
    assert len(key.group(1)) > 50
    assert "change-me" not in key.group(1)
    # the units, for this checkout, and systemd told about them
    installed = sorted((destdir / "etc" / "systemd" / "system").iterdir())
    shipped = sorted(p.name for p in (app / "deploy" / "systemd").glob("*.service"))
    assert [p.name for p in installed] == shipped
    for unit in installed:
        text = unit.read_text()
        assert "@APP_DIR@" not in text
        assert f"WorkingDirectory={app}\n" in text
        assert "User=platecheck\n" in text
        assert _mode(unit) == 0o644
    assert calls[-1] == ["systemctl", "daemon-reload"]


def test_a_second_run_changes_nothing(tmp_path):
    # given an installed checkout
    app, system, destdir = _checkout(tmp_path), _system(tmp_path), tmp_path / "root"
    _install(app, system, destdir)
    before = _tree(app / "var", destdir)
    accounts = (system / "passwd").read_text(), (system / "group").read_text()
    # when the installer runs again
    calls = _install(app, system, destdir)
    # then every file, folder, mode and account is as it was, and systemd is left alone
    assert _tree(app / "var", destdir) == before
    assert ((system / "passwd").read_text(), (system / "group").read_text()) == accounts
    assert [call for call in calls if call[0] != "chown"] == []


def test_an_existing_env_file_is_kept_and_a_changed_unit_is_reinstalled(tmp_path):
    # given an installation whose operator wrote the env file, and an edited unit in the checkout
    app, system, destdir = _checkout(tmp_path), _system(tmp_path), tmp_path / "root"
    env = destdir / "etc" / "platecheck" / "env"
    env.parent.mkdir(parents=True)
    env.write_text("SECRET_KEY=the-operators-own\nDATABASE_URL=postgres://db.internal/pc\n")
    env.chmod(0o600)
    _install(app, system, destdir)
    unit = app / "deploy" / "systemd" / "platecheck-worker.service"
    unit.write_text(unit.read_text().replace("--concurrency 2", "--concurrency 4"))
    # when
    calls = _install(app, system, destdir)
    # then the env file is untouched, and only the edited unit is new
    assert env.read_text().startswith("SECRET_KEY=the-operators-own\n")
    assert _mode(env) == 0o600
    assert not any(call[0] == "chown" and call[-1] == str(env) for call in calls)
    installed = destdir / "etc" / "systemd" / "system" / "platecheck-worker.service"
    assert "--concurrency 4" in installed.read_text()
    assert [call for call in calls if call[0] == "systemctl"] == [["systemctl", "daemon-reload"]]
