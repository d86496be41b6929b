"""derivkit: one multiplexed Deriv API v3 connection under a CLI, a dashboard and a bot."""

__version__ = "0.1.0"
