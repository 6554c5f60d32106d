"""Plaza inside Teams and SharePoint frames: single sign-on, Plaza tokens, embedded pages."""
