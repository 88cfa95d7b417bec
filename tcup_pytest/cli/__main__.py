import sys

from tcup_pytest.cli import main

sys.exit(main())
