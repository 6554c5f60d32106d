import { BaseDialog, type IDialogConfiguration } from '@microsoft/sp-dialog';
import * as strings from 'DiscussCommandSetStrings';

/**
 * A side panel framing Plaza's compact document panel. Plaza's page is loaded in an iframe,
 * never as script into SharePoint's page: SharePoint's content security policy allows only
 * the package's own script.
 */
export default class DiscussPanel extends BaseDialog {
  public constructor(private readonly _url: string) {
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
    frame.src = this._url;
    frame.style.cssText = 'flex:1;border:0;width:100%;';
    // Plaza's page runs its own script and signs in (popups for consent), nothing more.
    frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups');
    frame.setAttribute('referrerpolicy', 'strict-origin');

    panel.appendChild(close);
    panel.appendChild(frame);
    this.domElement.replaceChildren(panel);
  }

  public getConfig(): IDialogConfiguration {
    return { isBlocking: false };
  }
}
