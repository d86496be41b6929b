"""derivkit: one multiplexed Deriv API v3 connection under a CLI, a dashboard and a bot."""

import logging

__version__ = "0.1.0"

# A library's logs are the application's to route: without configuration they go nowhere
# (not to Python's last-resort stderr handler). Nothing else is configured on import.
logging.getLogger("derivkit").addHandler(logging.NullHandler())
