"""The one place that decides where DSCO Desktop keeps its files, logs them, and locks them.

Data, log and cache folders come from platformdirs; `--data-dir` or the environment variable
`DSCO_DESKTOP_DATA_DIR` moves everything (logs and cache included) under one folder, which is
what tests, portable installs and a second shop on the same PC use. The log file rotates and
never contains secrets. A lock file makes sure only one app instance uses a data folder, so two
windows never poll the same order stream or send the same outbox row.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import platformdirs

from dsco_desktop.errors import UserFacingError

APP_NAME = "DSCO Desktop"
APP_AUTHOR = "DSCO Desktop"
DATA_DIR_ENV = "DSCO_DESKTOP_DATA_DIR"

LOG_FILE_NAME = "dsco-desktop.log"
LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUP_COUNT = 5


@dataclass(frozen=True)
class AppPaths:
    """Every folder and file the app writes, computed once at start."""

    data_dir: Path
    log_dir: Path
    cache_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "dsco-desktop.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.log_dir / LOG_FILE_NAME

    @property
    def lock_file(self) -> Path:
        return self.data_dir / "dsco-desktop.lock"

    @property
    def ui_state_file(self) -> Path:
        return self.data_dir / "ui-state.ini"

    @property
    def sandbox_dir(self) -> Path:
        return self.data_dir / "sandbox"

    def create(self) -> None:
        """Create the folders (not the files) if they are missing."""
        for folder in (self.data_dir, self.log_dir, self.cache_dir):
            folder.mkdir(parents=True, exist_ok=True)


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """Where the app keeps its files: `data_dir`, else $DSCO_DESKTOP_DATA_DIR, else platformdirs.

    With an override, logs and cache live under it too, so one folder holds the whole app state.
    """
    override = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    if override is not None:
        root = Path(override).expanduser().resolve()
        return AppPaths(data_dir=root, log_dir=root / "logs", cache_dir=root / "cache")
    dirs = platformdirs.PlatformDirs(APP_NAME, APP_AUTHOR)
    return AppPaths(
        data_dir=Path(dirs.user_data_dir),
        log_dir=Path(dirs.user_log_dir),
        cache_dir=Path(dirs.user_cache_dir),
    )


# Patterns of things that must never reach a log file: OAuth secrets and tokens in form bodies,
# JSON or headers, and bearer tokens. Customer addresses are kept out at the source (the client
# redacts them); this filter is the last line of defence for credentials.
_SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/%]+=*"),
    re.compile(
        r"(?i)([\"']?(?:client_secret|access_token|refresh_token|password|secret|token"
        r"|authorization)[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,}]+)"
    ),
)
REDACTED = "[redacted]"
# Customer data that reaches a message anyway (an exception quoting an order's ship-to, say):
# the values of address-like keys in JSON or a Python repr, and e-mail addresses.
_CUSTOMER_FIELD = re.compile(
    r"(?i)([\"'](?:name|company|attention|first_?name|last_?name|address(?:_?\d)?|street"
    r"|city|postal(?:_?code)?|zip(?:_?code)?|phone|email)[\"']\s*:\s*)"
    r"(\[[^\]]*\]|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
)
_EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def redact_secrets(text: str) -> str:
    """The text with secrets, tokens and customer contact details replaced by a marker."""
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _CUSTOMER_FIELD.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    return _EMAIL_ADDRESS.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message (and traceback) without secrets before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True


def setup_logging(paths: AppPaths, *, level: int = logging.INFO) -> Path:
    """Send the app's logging to a rotating, redacted log file; returns the file's path.

    Calling it again (tests, a restart in the same process) replaces the previous handler.
    """
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_dsco_desktop", False):
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(
        paths.log_file, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUP_COUNT, encoding="utf-8"
    )
    handler._dsco_desktop = True  # type: ignore[attr-defined]
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s")
    )
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request line at INFO; the activity log already records calls, redacted.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return paths.log_file


class AlreadyRunningError(UserFacingError):
    """Another DSCO Desktop holds the lock of this data folder."""


class InstanceLock:
    """An OS-level exclusive lock on a file in the data folder, held while the app runs.

    The OS drops the lock when the process dies, so a crash never leaves a stale lock behind.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> None:
        """Take the lock or raise `AlreadyRunningError` naming the data folder."""
        if self._handle is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            _lock_file(handle)
        except OSError:
            handle.close()
            raise AlreadyRunningError(
                f"DSCO Desktop is already running with this data folder: {self.path.parent}",
                detail="Switch to the open window, or start with --data-dir to use another folder.",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is None:
            return
        try:
            _unlock_file(self._handle)
        finally:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


if sys.platform == "win32":
    import msvcrt

    def _lock_file(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock_file(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_file(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_file(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
