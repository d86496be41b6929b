"""In-process fakes of external services for offline end-to-end tests."""
