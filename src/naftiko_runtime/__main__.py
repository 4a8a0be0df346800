import sys

from naftiko_runtime.cli import main

sys.exit(main())
