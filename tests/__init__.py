"""Cookout tests."""
