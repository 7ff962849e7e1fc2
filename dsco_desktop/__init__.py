"""DSCO Desktop: a desktop app for suppliers selling through Rithum's Dsco platform."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dsco-desktop")
except PackageNotFoundError:  # running from a frozen bundle or a bare checkout
    __version__ = "0.0.0"
