"""Build DSCO Desktop for the OS this runs on: the frozen app, its smoke test, the installers.

    uv run python packaging/build.py            # freeze, smoke-test the result, make installers
    uv run python packaging/build.py --no-installer   # freeze and smoke-test only (what CI does)
    uv run python packaging/build.py --skip-freeze    # installers from the existing dist/ folder

What comes out, in packaging/dist/:
- Linux: `DSCO Desktop/` (the one-dir app), `dsco-desktop-<v>-linux-<arch>.tar.gz` (the app
  plus a menu-entry installer script) and `dsco-desktop_<v>_<arch>.deb` (installs to
  /opt/dsco-desktop with a `dsco-desktop` command, a menu entry and icons).
- Windows: `DSCO Desktop/` and `dsco-desktop-<v>-windows-x64-setup.exe`, made by Inno Setup 6
  from packaging/windows/dsco_desktop.iss (install Inno Setup first; `iscc` must be found).
- macOS: `DSCO Desktop.app` (Info.plist from packaging/macos/) and `DSCO Desktop-<v>.dmg`
  with an Applications shortcut, made with `hdiutil`. Set DSCO_CODESIGN_IDENTITY to sign the
  app before the dmg is made.

Nothing here can build another OS's installer: each is built on its own OS (a CI runner per
OS). The smoke test runs the frozen app with an empty environment (no virtualenv, a fresh
HOME), the way a shop owner's computer would.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "dsco_desktop.spec"
DIST = PACKAGING / "dist"
WORK = PACKAGING / "build"
ICONS = ROOT / "resources" / "icons"

APP_NAME = "DSCO Desktop"
EXE_NAME = "dsco-desktop"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
SMOKE_TIMEOUT_S = 300

# Libraries the frozen app takes from the system rather than the bundle: OpenGL/EGL (drivers
# must match the machine) and the X11 helpers Qt's xcb platform plugin needs.
DEB_DEPENDS = (
    "libc6 (>= 2.34)",
    "libegl1",
    "libgl1",
    "libfontconfig1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libdbus-1-3",
)


@dataclass(frozen=True)
class Project:
    version: str
    summary: str

    @classmethod
    def read(cls) -> Project:
        """Version and summary as pyproject.toml declares them (via the installed package)."""
        meta = metadata("dsco-desktop")
        return cls(version=meta["Version"], summary=meta["Summary"] or APP_NAME)


def app_dir() -> Path:
    """The one-dir app PyInstaller made (the .app bundle on macOS)."""
    if sys.platform == "darwin":
        return DIST / f"{APP_NAME}.app"
    return DIST / APP_NAME


def executable(folder: Path) -> Path:
    if sys.platform == "darwin":
        return folder / "Contents" / "MacOS" / EXE_NAME
    return folder / (f"{EXE_NAME}.exe" if sys.platform == "win32" else EXE_NAME)


def run(command: list[str], **kwargs: object) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]


def freeze() -> Path:
    """Run PyInstaller on the spec; returns the app folder."""
    started = time.perf_counter()
    run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level=WARN",
            "--distpath",
            str(DIST),
            "--workpath",
            str(WORK),
            str(SPEC),
        ],
        cwd=ROOT,
    )
    folder = app_dir()
    took = time.perf_counter() - started
    print(f"Frozen app: {folder} ({folder_size_mb(folder):.1f} MB) in {took:.0f} s")
    return folder


def folder_size_mb(folder: Path) -> float:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return total / (1024 * 1024)


def clean_environment(home: Path) -> dict[str, str]:
    """What a fresh login has: no virtualenv, no PYTHON*, no project paths; a new HOME."""
    env = {"HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"}
    if sys.platform == "win32":
        for name in ("SystemRoot", "SystemDrive", "WINDIR", "TEMP", "TMP", "PATH"):
            if name in os.environ:
                env[name] = os.environ[name]
        env["USERPROFILE"] = env["LOCALAPPDATA"] = env["APPDATA"] = str(home)
    else:
        env["PATH"] = "/usr/bin:/bin"
        env["TMPDIR"] = str(home)
    return env


def smoke_test(folder: Path) -> int:
    """Run `--smoke-test` of the frozen app in a clean environment; its exit code."""
    exe = executable(folder)
    with tempfile.TemporaryDirectory(prefix="dsco-desktop-home-") as home:
        print(f"+ {exe} --smoke-test   (clean environment, HOME={home})", flush=True)
        try:
            done = subprocess.run(
                [str(exe), "--smoke-test"],
                env=clean_environment(Path(home)),
                cwd=home,
                timeout=SMOKE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            print(f"The frozen app's smoke test did not finish in {SMOKE_TIMEOUT_S} s.")
            return 1
    return done.returncode


# -- Linux ------------------------------------------------------------------------------------


def deb_architecture() -> str:
    try:
        out = subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def desktop_entry(exec_path: str = EXE_NAME, icon: str = EXE_NAME) -> str:
    """The .desktop file, with the command and icon it should name."""
    text = (PACKAGING / "linux" / "dsco-desktop.desktop").read_text(encoding="utf-8")
    replaced = {"Exec": exec_path, "Icon": icon}
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={replaced[key]}" if key in replaced and "=" in line else line)
    return "\n".join(lines) + "\n"


MENU_SCRIPT = """#!/bin/sh
# Add DSCO Desktop to your applications menu (for you only; no administrator rights needed).
# Run it from the folder you unpacked:   ./install-menu-entry.sh
# Remove the menu entry again with:      ./install-menu-entry.sh --remove
set -e
here="$(cd "$(dirname "$0")" && pwd)"
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
entry="$apps/dsco-desktop.desktop"
if [ "$1" = "--remove" ]; then
  rm -f "$entry"
  echo "Menu entry removed. Delete this folder to remove the app;"
  echo "your data stays in ${XDG_DATA_HOME:-$HOME/.local/share}/DSCO Desktop."
  exit 0
fi
mkdir -p "$apps"
sed -e "s|^Exec=.*|Exec=\\"$here/dsco-desktop\\"|" -e "s|^Icon=.*|Icon=$here/dsco-desktop.png|" \\
  "$here/dsco-desktop.desktop" > "$entry"
chmod 644 "$entry"
echo "DSCO Desktop is in your applications menu."
"""


def make_tarball(folder: Path, project: Project) -> Path:
    """A .tar.gz of the app folder, with the icon, the .desktop file and the menu script."""
    name = f"dsco-desktop-{project.version}-linux-{platform.machine()}"
    stage = WORK / "tarball" / name
    shutil.rmtree(stage.parent, ignore_errors=True)
    shutil.copytree(folder, stage, symlinks=True)
    shutil.copy2(ICONS / "dsco-desktop-256.png", stage / "dsco-desktop.png")
    (stage / "dsco-desktop.desktop").write_text(desktop_entry(), encoding="utf-8")
    script = stage / "install-menu-entry.sh"
    script.write_text(MENU_SCRIPT, encoding="utf-8")
    script.chmod(0o755)
    out = DIST / f"{name}.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(stage, arcname=name)
    print(f"Tarball: {out} ({out.stat().st_size / 1048576:.1f} MB)")
    return out


def deb_control(project: Project, arch: str, installed_kb: int) -> str:
    return (
        "Package: dsco-desktop\n"
        f"Version: {project.version}\n"
        "Section: misc\n"
        "Priority: optional\n"
        f"Architecture: {arch}\n"
        f"Installed-Size: {installed_kb}\n"
        f"Depends: {', '.join(DEB_DEPENDS)}\n"
        "Maintainer: DSCO Desktop <support@dsco-desktop.invalid>\n"
        "Description: catalog, inventory, orders and shipping for DSCO suppliers\n"
        " A desktop app for small suppliers selling through Rithum's DSCO platform:\n"
        " import the catalog from spreadsheets, keep inventory right per warehouse,\n"
        " acknowledge and ship orders with tracking, invoice and handle returns.\n"
    )


def make_deb(folder: Path, project: Project) -> Path | None:
    """A .deb installing to /opt/dsco-desktop, with a command, a menu entry and icons."""
    if shutil.which("dpkg-deb") is None:
        print("dpkg-deb not found: no .deb made (the tarball is still there).")
        return None
    arch = deb_architecture()
    root = WORK / "deb" / "root"
    shutil.rmtree(root.parent, ignore_errors=True)
    opt = root / "opt" / "dsco-desktop"
    shutil.copytree(folder, opt, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / EXE_NAME).symlink_to(f"/opt/dsco-desktop/{EXE_NAME}")
    apps = root / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    (apps / "dsco-desktop.desktop").write_text(desktop_entry(), encoding="utf-8")
    hicolor = root / "usr" / "share" / "icons" / "hicolor"
    for size in ICON_SIZES:
        target = hicolor / f"{size}x{size}" / "apps"
        target.mkdir(parents=True)
        shutil.copy2(ICONS / f"dsco-desktop-{size}.png", target / "dsco-desktop.png")
    (hicolor / "scalable" / "apps").mkdir(parents=True)
    shutil.copy2(ICONS / "dsco-desktop.svg", hicolor / "scalable" / "apps" / "dsco-desktop.svg")
    for path in root.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    installed_kb = int(folder_size_mb(root) * 1024)
    debian = root / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(deb_control(project, arch, installed_kb), encoding="utf-8")
    out = DIST / f"dsco-desktop_{project.version}_{arch}.deb"
    # gzip: every dpkg reads it (zstd needs dpkg 1.21.18+, xz takes minutes on 140 MB).
    run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(out)])
    print(f"Debian package: {out} ({out.stat().st_size / 1048576:.1f} MB)")
    return out


# -- Windows ----------------------------------------------------------------------------------


def find_iscc() -> Path | None:
    found = shutil.which("iscc") or shutil.which("ISCC")
    if found:
        return Path(found)
    for base in (
        os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)"),
        os.environ.get("PROGRAMFILES", r"C:\Program Files"),
        str(Path(os.environ.get("LOCALAPPDATA", "")) / "Programs"),
    ):
        candidate = Path(base) / "Inno Setup 6" / "ISCC.exe"
        if candidate.is_file():
            return candidate
    return None


def make_windows_installer(folder: Path, project: Project) -> Path | None:
    iscc = find_iscc()
    if iscc is None:
        print("Inno Setup 6 (iscc) not found: install it from https://jrsoftware.org/isinfo.php")
        return None
    run(
        [
            str(iscc),
            f"/DAppVersion={project.version}",
            f"/DSourceDir={folder}",
            f"/DOutputDir={DIST}",
            str(PACKAGING / "windows" / "dsco_desktop.iss"),
        ]
    )
    out = DIST / f"dsco-desktop-{project.version}-windows-x64-setup.exe"
    print(f"Windows installer: {out}")
    return out


# -- macOS ------------------------------------------------------------------------------------


def make_dmg(bundle: Path, project: Project) -> Path:
    """A compressed dmg holding the .app and a shortcut to /Applications to drag it onto."""
    identity = os.environ.get("DSCO_CODESIGN_IDENTITY")
    if identity:
        run(
            [
                "codesign",
                "--deep",
                "--force",
                "--options",
                "runtime",
                "--sign",
                identity,
                str(bundle),
            ]
        )
    stage = WORK / "dmg"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copytree(bundle, stage / bundle.name, symlinks=True)
    (stage / "Applications").symlink_to("/Applications")
    out = DIST / f"{APP_NAME}-{project.version}.dmg"
    out.unlink(missing_ok=True)
    run(
        [
            "hdiutil",
            "create",
            "-volname",
            f"{APP_NAME} {project.version}",
            "-srcfolder",
            str(stage),
            "-ov",
            "-format",
            "UDZO",
            str(out),
        ]
    )
    print(f"Disk image: {out}")
    return out


def make_installers(folder: Path, project: Project) -> list[Path]:
    if sys.platform.startswith("linux"):
        made = [make_tarball(folder, project), make_deb(folder, project)]
    elif sys.platform == "win32":
        made = [make_windows_installer(folder, project)]
    elif sys.platform == "darwin":
        made = [make_dmg(folder, project)]
    else:
        print(f"No installer for {sys.platform}; the app folder is {folder}")
        made = []
    return [path for path in made if path is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build DSCO Desktop and its installer.")
    parser.add_argument("--skip-freeze", action="store_true", help="reuse packaging/dist")
    parser.add_argument("--no-smoke", action="store_true", help="skip the frozen smoke test")
    parser.add_argument("--no-installer", action="store_true", help="stop after the smoke test")
    args = parser.parse_args(argv)
    project = Project.read()
    print(f"DSCO Desktop {project.version} on {sys.platform} ({platform.machine()})")
    folder = app_dir() if args.skip_freeze else freeze()
    if not executable(folder).exists():
        print(f"No frozen app at {folder}; run without --skip-freeze.")
        return 2
    if not args.no_smoke:
        code = smoke_test(folder)
        if code != 0:
            print(f"The frozen app failed its smoke test (exit code {code}); no installer made.")
            return 1
    if not args.no_installer:
        made = make_installers(folder, project)
        for path in made:
            print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
