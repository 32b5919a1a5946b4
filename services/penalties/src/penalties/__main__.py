import sys

from penalties.main import service

sys.exit(service.cli())
