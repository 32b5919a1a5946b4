import sys

from registration.main import cli

sys.exit(cli())
