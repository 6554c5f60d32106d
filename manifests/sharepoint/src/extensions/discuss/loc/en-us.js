define([], function() {
  return {
    "PanelTitle": "Discussion in Plaza",
    "Close": "Close",
    "NotConfigured": "Plaza's address is not set for this command: ask your SharePoint admin to deploy the package built by `plaza manifests build`.",
    "NotAFile": "Plaza could not identify this file.",
    "SignInFailed": "Plaza could not sign you in: SharePoint gave no token for Plaza (ask your SharePoint admin to approve Plaza's API access request)."
  }
});
