import sys

from inspection.main import service

sys.exit(service.cli())
