"""An offline Microsoft 365 tenant (Entra ID, Graph, SharePoint REST) for tests and the demo."""
