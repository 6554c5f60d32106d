"""An offline Microsoft 365 tenant (Entra ID, Graph v1.0, SharePoint REST) for tests and the demo."""
