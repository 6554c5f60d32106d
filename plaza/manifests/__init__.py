"""`plaza manifests build`: the files an admin uploads to put Plaza inside Microsoft 365.

- `inputs`: what a build needs (public URL, client id, tenant) from options over settings,
  checked into one-line errors (`ManifestError`).
- `ids`: the stable GUIDs derived from those inputs, so a rebuild changes nothing.
- `teams`: the Teams app package (manifest.json and the two icons, zipped).
- `entra`: the Entra app registration in Microsoft Graph's application resource shape.
- `sharepoint`: the SharePoint Framework "Discuss" command set, built into a .sppkg when Node
  and the toolchain are installed.
- `build`: writes them all under one output folder.

The templates and the SPFx source live in the repository's `manifests/` folder.
"""
