"""The dashboard's screens: the main watchlist screen and the symbol picker."""
