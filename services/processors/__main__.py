"""``python -m services.processors football|basketball|tennis|ice_hockey``."""

import sys

from services.processors.runtime.worker import main

if __name__ == "__main__":
    sys.exit(main())
