"""The PySide6 user interface: main window, tabs, models, workers, dialogs."""
