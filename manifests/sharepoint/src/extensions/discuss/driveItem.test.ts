/// <reference types="heft-jest" />
import { driveItemOf, isPlazaUrl, panelUrl } from './driveItem';

// A library row's `.spItemUrl`, in the form SharePoint gives it (drive ids start with "b!").
const ROW_URL: string =
  'https://contoso.sharepoint.com/_api/v2.0/drives/' +
  'b!cQ4bN4xb2Uy4Qh1sVCQZuF6ZyM2eXqxNlVFfS0pEqmKvWk1q8a4ZQYhV6pMUA3Q-' +
  '/items/01OZJTIGFNX7JJLAHGAJHKQBCMT3NBMRKM?version=Published';

describe('driveItemOf', () => {
  it('takes the Graph drive and item ids from the row', () => {
    expect(driveItemOf(ROW_URL)).toEqual({
      driveId: 'b!cQ4bN4xb2Uy4Qh1sVCQZuF6ZyM2eXqxNlVFfS0pEqmKvWk1q8a4ZQYhV6pMUA3Q-',
      itemId: '01OZJTIGFNX7JJLAHGAJHKQBCMT3NBMRKM'
    });
  });

  it('gives nothing for a row without them', () => {
    expect(driveItemOf(undefined)).toBeUndefined();
    expect(driveItemOf('')).toBeUndefined();
    expect(driveItemOf('https://contoso.sharepoint.com/sites/a/Shared%20Documents/x.docx')).toBeUndefined();
  });
});

describe('panelUrl', () => {
  it("is Plaza's compact document panel", () => {
    const item = driveItemOf(ROW_URL)!;
    expect(panelUrl('https://plaza.contoso.com/', item)).toBe(
      'https://plaza.contoso.com/embed/documents/' +
        'b!cQ4bN4xb2Uy4Qh1sVCQZuF6ZyM2eXqxNlVFfS0pEqmKvWk1q8a4ZQYhV6pMUA3Q-' +
        '/01OZJTIGFNX7JJLAHGAJHKQBCMT3NBMRKM'
    );
  });
});

describe('isPlazaUrl', () => {
  it('accepts an https origin, or http on localhost only', () => {
    expect(isPlazaUrl('https://plaza.contoso.com')).toBe(true);
    expect(isPlazaUrl('http://localhost:5000')).toBe(true);
    expect(isPlazaUrl('http://plaza.contoso.com')).toBe(false);
    expect(isPlazaUrl('__PLAZA_URL__')).toBe(false);
    expect(isPlazaUrl('https://plaza.contoso.com/path')).toBe(false);
    expect(isPlazaUrl(undefined)).toBe(false);
  });
});
