"""The frozen app's entry point: PyInstaller starts here and hands over to `dsco_desktop.app`.

A separate file (rather than dsco_desktop/__main__.py) so the bundle's entry script is not a
package's `__main__` module, which PyInstaller would import twice.
"""

import sys

from dsco_desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
