"""Outbound HTTP: fetching documents from URLs another party controls."""
