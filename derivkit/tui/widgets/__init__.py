"""Passive dashboard widgets: they show what they are given and never import derivkit.core."""
