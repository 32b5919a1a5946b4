import sys

from registration.main import service

sys.exit(service.cli())
