"""Packaging: the PyInstaller spec, the icons, the installer pieces and the smoke test.

Building the frozen app takes about a minute, so it happens in CI's own step
(`packaging/build.py --no-installer`, after the suite) rather than here. These tests keep the
pieces honest: the spec runs and leaves out nothing the app imports, the installers name the
right files, and `--smoke-test` passes on the source app and names the step that fails.
"""

from __future__ import annotations

import ast
import importlib.metadata
import io
import os
import plistlib
import shutil
import struct
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
ICONS = ROOT / "resources" / "icons"


# -- the spec ---------------------------------------------------------------------------------


class _Recorder:
    """Stands in for one of PyInstaller's spec classes and remembers how it was called."""

    def __init__(self, kind: str, calls: dict[str, Any]) -> None:
        self.kind = kind
        self.calls = calls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls[self.kind] = SimpleNamespace(args=args, kwargs=kwargs)
        return SimpleNamespace(binaries=[], datas=[], pure=[], scripts=[], zipfiles=[])


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The spec executed as PyInstaller would, with its build steps recorded instead of run."""
    calls: dict[str, Any] = {}
    namespace: dict[str, Any] = {
        "SPECPATH": str(PACKAGING),
        "__file__": str(PACKAGING / "dsco_desktop.spec"),
        **{k: _Recorder(k, calls) for k in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")},
    }
    source = (PACKAGING / "dsco_desktop.spec").read_text(encoding="utf-8")
    exec(compile(source, "dsco_desktop.spec", "exec"), namespace)
    namespace["calls"] = calls
    return namespace


def _qt_modules_the_app_imports() -> set[str]:
    used: set[str] = set()
    for path in (ROOT / "dsco_desktop").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            used.update(n.split(".")[1] for n in names if n.startswith("PySide6."))
    return used


def test_the_spec_makes_a_one_dir_build_without_upx(spec: dict[str, Any]) -> None:
    exe, collect = spec["calls"]["EXE"].kwargs, spec["calls"]["COLLECT"].kwargs
    assert exe["exclude_binaries"] is True  # one-dir: the libraries sit beside the program
    assert exe["upx"] is False and collect["upx"] is False
    assert exe["name"] == "dsco-desktop"
    assert collect["name"] == "DSCO Desktop"
    assert spec["VERSION"] == importlib.metadata.version("dsco-desktop")
    assert spec["APP_NAME"] == "DSCO Desktop"


def test_the_spec_keeps_every_qt_module_the_app_imports(spec: dict[str, Any]) -> None:
    used = _qt_modules_the_app_imports()
    assert {"QtCore", "QtGui", "QtWidgets"} <= used
    excluded = {name.split(".", 1)[1] for name in spec["EXCLUDES"] if name.startswith("PySide6.")}
    assert not used & excluded, f"the app imports {used & excluded}, which the spec leaves out"
    assert {"QtQml", "QtQuick", "QtPdf", "QtNetwork", "QtOpenGL"} <= excluded


def test_the_spec_lists_lazy_imports_resources_and_metadata(spec: dict[str, Any]) -> None:
    analysis = spec["calls"]["Analysis"]
    hidden = set(analysis.kwargs["hiddenimports"])
    # uvicorn picks its protocol, loop and lifespan modules by name at run time.
    assert {
        "uvicorn.protocols.http.h11_impl",
        "uvicorn.loops.asyncio",
        "uvicorn.lifespan.off",
    } <= hidden
    assert "keyring.backends.SecretService" in hidden
    assert "dsco_desktop.ui.smoke" in hidden
    # The ones the app needs here must import (others are for other OSes or optional extras).
    for name in hidden:
        if not name.startswith(("uvicorn.", "keyring.backends.")):
            importlib.import_module(name)
    importlib.import_module("uvicorn.protocols.http.h11_impl")
    datas = {Path(dest).as_posix(): Path(src) for src, dest in analysis.kwargs["datas"]}
    assert datas["resources"] == ROOT / "resources"
    assert any(dest.startswith("dsco_desktop-") for dest in datas)  # __version__ when frozen
    assert any(dest.startswith("keyring-") for dest in datas)  # keyring's backend entry points
    assert "yaml" in spec["EXCLUDES"] and "pytest" in spec["EXCLUDES"]  # the spec file is dev-only
    script = Path(analysis.args[0][0])
    assert script.is_file() and "dsco_desktop.app import main" in script.read_text()


@pytest.mark.parametrize(
    ("dest", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
        ("PySide6/Qt/plugins/platforms/qwindows.dll", True),
        ("PySide6/Qt/plugins/imageformats/libqico.so", True),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
        ("PySide6/Qt/lib/libQt6Quick.so.6", False),
        ("PySide6/Qt/lib/libQt6Pdf.so.6", False),
        ("PySide6/Qt6Qml.dll", False),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
        ("PySide6/Qt/plugins/imageformats/libqpdf.so", False),
        ("PySide6/Qt/translations/qtbase_de.qm", False),
        ("PySide6\\Qt\\plugins\\qmltooling\\qmldbg_debugger.dll", False),
    ],
)
def test_the_spec_drops_qt_pieces_a_widgets_app_never_loads(
    spec: dict[str, Any], dest: str, kept: bool
) -> None:
    assert spec["_wanted"](dest) is kept


def test_libraries_only_dropped_plugins_needed_go_too(
    spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = {
        "/src/libqxcb.so": {"libqt6gui.so.6", "libxcb.so.1"},
        "/src/libqgtk3.so": {"libqt6gui.so.6", "libcairo.so.2", "libxcb.so.1"},
        "/src/libcairo.so.2": {"libpixman-1.so.0", "libxcb.so.1"},
        "/src/libpixman-1.so.0": set(),
        "/src/libqt6gui.so.6": set(),
        "/src/libxcb.so.1": set(),
        "/src/libcrypto.so.3": set(),  # nothing names it: loaded through ctypes, say
    }
    binaries = [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/src/libqxcb.so", "BINARY"),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/src/libqgtk3.so", "BINARY"),
        ("libcairo.so.2", "/src/libcairo.so.2", "BINARY"),
        ("libpixman-1.so.0", "/src/libpixman-1.so.0", "BINARY"),
        ("libQt6Gui.so.6", "/src/libqt6gui.so.6", "BINARY"),
        ("libxcb.so.1", "/src/libxcb.so.1", "BINARY"),
        ("libcrypto.so.3", "/src/libcrypto.so.3", "BINARY"),
    ]
    monkeypatch.setitem(spec, "_imports", lambda path: graph[path])
    kept = [dest for dest, _, _ in spec["_prune"](binaries)]
    assert kept == [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "libQt6Gui.so.6",
        "libxcb.so.1",
        "libcrypto.so.3",
    ]


# -- icons and installer files ----------------------------------------------------------------


def test_the_icon_files_match_their_source_and_hold_every_size(qapp: Any) -> None:
    from PySide6.QtGui import QImage

    sys.path.insert(0, str(PACKAGING))
    try:
        import make_icons
    finally:
        sys.path.remove(str(PACKAGING))
    assert (ICONS / "dsco-desktop.svg").read_text(encoding="utf-8") == make_icons.SVG
    for size in make_icons.PNG_SIZES:
        image = QImage(str(ICONS / f"dsco-desktop-{size}.png"))
        assert (image.width(), image.height()) == (size, size)
        # Transparent corners, opaque middle: a real drawing, not an empty canvas.
        assert image.pixelColor(0, 0).alpha() == 0
        assert image.pixelColor(size // 2, size // 2).alpha() == 255
    ico = (ICONS / "dsco-desktop.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    sizes = {ico[6 + 16 * i] or 256 for i in range(count)}
    assert (reserved, kind) == (0, 1) and sizes == set(make_icons.ICO_SIZES)
    icns = (ICONS / "dsco-desktop.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    assert b"ic10" in icns and b"icp4" in icns


def test_the_inno_setup_script_installs_per_user_with_a_start_menu_entry() -> None:
    iss = (PACKAGING / "windows" / "dsco_desktop.iss").read_text(encoding="utf-8")
    assert "PrivilegesRequired=lowest" in iss
    assert "#error Pass the version" in iss  # never a hard-coded version
    assert 'Name: "{group}\\{#AppName}"; Filename: "{app}\\{#AppExe}"' in iss
    assert "{uninstallexe}" in iss
    assert '#define AppExe "dsco-desktop.exe"' in iss
    icon = next(line.split("=", 1)[1] for line in iss.splitlines() if "SetupIconFile" in line)
    assert (PACKAGING / "windows" / icon.replace("\\", "/")).resolve() == (
        ICONS / "dsco-desktop.ico"
    )


def test_the_macos_info_plist_is_valid() -> None:
    with (PACKAGING / "macos" / "Info.plist").open("rb") as handle:
        info = plistlib.load(handle)
    assert info["CFBundleDisplayName"] == "DSCO Desktop"
    assert info["NSHighResolutionCapable"] is True
    assert info["LSMinimumSystemVersion"] == "13.0"


@pytest.fixture
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """packaging/build.py with its output folders moved under tmp_path."""
    sys.path.insert(0, str(PACKAGING))
    try:
        import build as module
    finally:
        sys.path.remove(str(PACKAGING))
    monkeypatch.setattr(module, "DIST", tmp_path / "dist")
    monkeypatch.setattr(module, "WORK", tmp_path / "work")
    (tmp_path / "dist").mkdir()
    yield module


@pytest.fixture
def fake_app(tmp_path: Path) -> Path:
    """A stand-in for the frozen app folder: a program and one library."""
    folder = tmp_path / "DSCO Desktop"
    (folder / "_internal").mkdir(parents=True)
    program = folder / "dsco-desktop"
    program.write_text("#!/bin/sh\necho frozen\n")
    program.chmod(0o755)
    (folder / "_internal" / "libexample.so").write_bytes(b"\0" * 2048)
    return folder


def test_the_desktop_entry_names_the_command_and_icon(build: ModuleType) -> None:
    entry = build.desktop_entry()
    fields = dict(line.split("=", 1) for line in entry.splitlines()[1:] if "=" in line)
    assert entry.startswith("[Desktop Entry]\n")
    assert fields["Exec"] == "dsco-desktop" and fields["Icon"] == "dsco-desktop"
    assert fields["Type"] == "Application" and fields["Terminal"] == "false"
    assert "Office" in fields["Categories"].split(";")
    moved = build.desktop_entry("/opt/x/dsco-desktop", "/opt/x/icon.png")
    assert "Exec=/opt/x/dsco-desktop\n" in moved and "Icon=/opt/x/icon.png\n" in moved


def test_the_tarball_carries_the_app_its_icon_and_a_menu_script(
    build: ModuleType, fake_app: Path, tmp_path: Path
) -> None:
    project = build.Project.read()
    out = build.make_tarball(fake_app, project)
    assert out.name == f"dsco-desktop-{project.version}-linux-{os.uname().machine}.tar.gz"
    with tarfile.open(out) as tar:
        members = {m.name.split("/", 1)[-1]: m for m in tar.getmembers()}
        assert members["dsco-desktop"].mode & 0o111
        assert members["install-menu-entry.sh"].mode & 0o111
        assert "_internal/libexample.so" in members
        assert "dsco-desktop.png" in members
        desktop = tar.extractfile(next(m for m in tar if m.name.endswith(".desktop")))
        assert desktop is not None and b"Exec=dsco-desktop" in desktop.read()
        tar.extractall(tmp_path / "unpacked", filter="data")
    # The menu script writes an entry pointing at where the user unpacked the app.
    unpacked = next((tmp_path / "unpacked").iterdir())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    subprocess.run(["sh", str(unpacked / "install-menu-entry.sh")], env=env, check=True)
    entry = (tmp_path / "home" / ".local/share/applications/dsco-desktop.desktop").read_text()
    assert f'Exec="{unpacked}/dsco-desktop"' in entry
    assert f"Icon={unpacked}/dsco-desktop.png" in entry
    subprocess.run(["sh", str(unpacked / "install-menu-entry.sh"), "--remove"], env=env, check=True)
    assert not (tmp_path / "home" / ".local/share/applications/dsco-desktop.desktop").exists()


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian/Ubuntu)")
def test_the_deb_installs_to_opt_with_a_command_menu_entry_and_icons(
    build: ModuleType, fake_app: Path
) -> None:
    project = build.Project.read()
    out = build.make_deb(fake_app, project)
    assert out is not None and out.is_file()
    info = subprocess.run(
        ["dpkg-deb", "-f", str(out)], capture_output=True, text=True, check=True
    ).stdout
    fields = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
    assert fields["Package"] == "dsco-desktop"
    assert fields["Version"] == project.version
    assert "libxcb-cursor0" in fields["Depends"]
    assert int(fields["Installed-Size"]) > 0
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(out)], capture_output=True, text=True, check=True
    ).stdout
    assert "./opt/dsco-desktop/dsco-desktop" in listing
    assert "./usr/bin/dsco-desktop -> /opt/dsco-desktop/dsco-desktop" in listing
    assert "./usr/share/applications/dsco-desktop.desktop" in listing
    assert "./usr/share/icons/hicolor/256x256/apps/dsco-desktop.png" in listing
    assert "./usr/share/icons/hicolor/scalable/apps/dsco-desktop.svg" in listing
    assert "root/root" in listing


def test_the_frozen_smoke_test_runs_without_the_virtualenv(build: ModuleType) -> None:
    env = build.clean_environment(Path("/nonexistent-home"))
    assert env["QT_QPA_PLATFORM"] == "offscreen"
    assert env["HOME"] == "/nonexistent-home"
    assert not {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV"} & set(env)
    if sys.platform != "win32":
        assert ".venv" not in env["PATH"]


# -- the smoke test ---------------------------------------------------------------------------


def test_smoke_test_passes_on_the_source_app(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "QT_QPA_PLATFORM": "xcb"}
    done = subprocess.run(
        [sys.executable, "-m", "dsco_desktop", "--smoke-test"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("DSCO Desktop ") and "(source)" in lines[0]
    steps = [line for line in lines if line.startswith("  ")]
    assert len(steps) == 8 and all(line.startswith("  ok   ") for line in steps), done.stdout
    assert any("the Orders tab lists it" in line for line in steps)
    assert any("which is completed" in line for line in steps)
    assert lines[-1].startswith("Smoke test passed: 8 steps")
    # It cleans up after itself when it passes.
    assert not list(tmp_path.glob("dsco-desktop-smoke-*"))


def test_smoke_test_names_the_step_that_failed(qapp: Any, tmp_path: Path) -> None:
    from dsco_desktop.app import DscoDesktop
    from dsco_desktop.ui.smoke import EXIT_FAILED, run_smoke_test

    class AppWithoutOutbox(DscoDesktop):
        """The outbox thread dies at start: nothing queued ever reaches DSCO."""

        def start(self) -> None:
            super().start()
            assert self.worker is not None
            self.worker.stop()

    out = io.StringIO()
    code = run_smoke_test(
        qapp,
        lambda paths, log_file: AppWithoutOutbox(paths, log_file=log_file, use_sandbox=True),
        out=out,
        step_timeout_s=3.0,
        parent_dir=tmp_path,
    )
    text = out.getvalue()
    assert code == EXIT_FAILED, text
    assert "  ok   order arrives through the order stream" in text
    assert "  FAIL acknowledge through the outbox: timed out waiting for DSCO" in text
    assert "Smoke test FAILED at step 'acknowledge through the outbox'" in text
    assert "ship through the outbox" not in text  # it stops at the first failure
    kept = next(tmp_path.glob("dsco-desktop-smoke-*"))
    assert f"Data and log kept in {kept}" in text
    assert (
        "smoke test: FAIL acknowledge through the outbox"
        in (kept / "logs" / "dsco-desktop.log").read_text()
    )
