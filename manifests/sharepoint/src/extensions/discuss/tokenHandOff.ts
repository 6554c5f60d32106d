/**
 * The SharePoint side of the panel's sign-in. SharePoint blocks Plaza's cookie in the frame
 * (third-party), so the panel asks its parent: it posts `{type: "plaza.ready"}` and waits for
 * `{type: "plaza.token", token}`, an Entra access token for Plaza's API
 * (`api://{host}/{client id}`), which Plaza trades for its own session token.
 *
 * Only Plaza's frame, at Plaza's exact origin, is answered, and the token is posted to that
 * frame at that origin only: no other page or frame ever sees it.
 */

/** What SPFx's AadTokenProvider offers (aadTokenProviderFactory.getTokenProvider()). */
export interface ITokenProvider {
  getToken(resource: string): Promise<string>;
}

export interface IHandOff {
  frame: HTMLIFrameElement;
  plazaOrigin: string; // https://plaza.contoso.com: exactly event.origin of Plaza's page
  resource: string; // api://plaza.contoso.com/{client id}
  tokenProvider: () => Promise<ITokenProvider>;
  onFailure: (error: unknown) => void;
}

export const READY: string = 'plaza.ready';
export const TOKEN: string = 'plaza.token';

/** Plaza's API as the build fills it in: `api://{host}/{client id}`. */
export function isPlazaApi(value: string | undefined): boolean {
  return /^api:\/\/[^/\s]+\/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/.test(value || '');
}

/** Answers the panel's `plaza.ready` on `host`; returns the function that stops listening. */
export function answerPanel(host: Window, handOff: IHandOff): () => void {
  const listener = (event: MessageEvent): void => {
    const frameWindow: Window | null = handOff.frame.contentWindow;
    if (!frameWindow || event.source !== frameWindow || event.origin !== handOff.plazaOrigin) {
      return;
    }
    if (!event.data || event.data.type !== READY) {
      return;
    }
    handOff
      .tokenProvider()
      .then((provider: ITokenProvider) => provider.getToken(handOff.resource))
      .then((token: string) => {
        frameWindow.postMessage({ type: TOKEN, token }, handOff.plazaOrigin);
      })
      .catch((error: unknown) => {
        // An empty token lets the panel stop waiting and say it could not sign in.
        frameWindow.postMessage({ type: TOKEN, token: '' }, handOff.plazaOrigin);
        handOff.onFailure(error);
      });
  };
  host.addEventListener('message', listener);
  return () => host.removeEventListener('message', listener);
}
