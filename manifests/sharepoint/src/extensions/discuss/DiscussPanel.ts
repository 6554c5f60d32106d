import { BaseDialog, type IDialogConfiguration } from '@microsoft/sp-dialog';
import * as strings from 'DiscussCommandSetStrings';

import { answerPanel, type ITokenProvider } from './tokenHandOff';

/** Where the panel is and how it signs in (see tokenHandOff.ts). */
export interface IPanelOptions {
  url: string; // the panel's address on Plaza
  plazaOrigin: string;
  resource: string; // Plaza's API: api://{host}/{client id}
  tokenProvider: () => Promise<ITokenProvider>;
}

/**
 * A side panel framing Plaza's compact document panel. Plaza's page is loaded in an iframe,
 * never as script into SharePoint's page: SharePoint's content security policy allows only
 * the package's own script.
 */
export default class DiscussPanel extends BaseDialog {
  private _stopAnswering: (() => void) | undefined;

  public constructor(private readonly _options: IPanelOptions) {
    super({ isBlocking: false });
  }

  public render(): void {
    const panel: HTMLDivElement = document.createElement('div');
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', strings.PanelTitle);
    panel.style.cssText = 'display:flex;flex-direction:column;width:min(400px,90vw);height:80vh;';

    const close: HTMLButtonElement = document.createElement('button');
    close.type = 'button';
    close.textContent = strings.Close;
    close.style.cssText = 'align-self:flex-end;margin:4px;';
    close.addEventListener('click', () => {
      this.close().catch(() => undefined);
    });

    const frame: HTMLIFrameElement = document.createElement('iframe');
    frame.title = strings.PanelTitle;
    frame.src = this._options.url;
    frame.style.cssText = 'flex:1;border:0;width:100%;';
    // Plaza's page runs its own script and signs in (popups for consent), nothing more.
    frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups');
    frame.setAttribute('referrerpolicy', 'strict-origin');

    const status: HTMLParagraphElement = document.createElement('p');
    status.setAttribute('role', 'alert');
    status.hidden = true;
    status.style.cssText = 'margin:4px 8px;';

    panel.appendChild(close);
    panel.appendChild(status);
    panel.appendChild(frame);
    this.domElement.replaceChildren(panel);

    this._stopAnswering?.();
    this._stopAnswering = answerPanel(window, {
      frame,
      plazaOrigin: this._options.plazaOrigin,
      resource: this._options.resource,
      tokenProvider: this._options.tokenProvider,
      onFailure: () => {
        status.textContent = strings.SignInFailed;
        status.hidden = false;
      }
    });
  }

  protected onAfterClose(): void {
    this._stopAnswering?.();
    this._stopAnswering = undefined;
    super.onAfterClose();
  }

  public getConfig(): IDialogConfiguration {
    return { isBlocking: false };
  }
}
