"""Microsoft Graph change notifications: the endpoint Graph POSTs to (see views.py)."""
