/**
 * Which file a list view row is, in Microsoft Graph's terms (drive id, item id).
 *
 * A document library row carries `.spItemUrl`, the file's address on SharePoint's
 * `/_api/v2.0` endpoint: `https://{host}/_api/v2.0/drives/{drive id}/items/{item id}?...`.
 * That endpoint is the OneDrive API that Graph serves too, with the same ids, so both come
 * from the row itself: no request, no extra permission.
 */
export interface IDriveItemRef {
  driveId: string;
  itemId: string;
}

const ITEM_PATH: RegExp = /\/drives\/([^/?#]+)\/items\/([^/?#]+)/;

export function driveItemOf(spItemUrl: string | undefined): IDriveItemRef | undefined {
  const match: RegExpExecArray | null = ITEM_PATH.exec(spItemUrl || '');
  if (!match) {
    return undefined;
  }
  return { driveId: decodeURIComponent(match[1]), itemId: decodeURIComponent(match[2]) };
}

/** Plaza's compact panel for one file: `{plaza}/embed/documents/{drive id}/{item id}`. */
export function panelUrl(plazaUrl: string, item: IDriveItemRef): string {
  const base: string = plazaUrl.replace(/\/+$/, '');
  return `${base}/embed/documents/${encodeURIComponent(item.driveId)}/${encodeURIComponent(item.itemId)}`;
}

/** Only an https address (or http on localhost, for a test tenant) is framed. */
export function isPlazaUrl(value: string | undefined): boolean {
  return /^https:\/\/[^/]+$/.test(value || '') || /^http:\/\/localhost(:\d+)?$/.test(value || '');
}
