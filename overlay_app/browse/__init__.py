"""Browsing: sites, libraries and folders (views), the document page (documents), listings."""
