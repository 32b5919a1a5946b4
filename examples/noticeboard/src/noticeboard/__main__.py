import sys

from noticeboard.main import service

sys.exit(service.cli())
