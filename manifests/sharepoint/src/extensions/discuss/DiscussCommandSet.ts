import { Log } from '@microsoft/sp-core-library';
import {
  BaseListViewCommandSet,
  type Command,
  type IListViewCommandSetExecuteEventParameters,
  type ListViewStateChangedEventArgs,
  type RowAccessor
} from '@microsoft/sp-listview-extensibility';
import { Dialog } from '@microsoft/sp-dialog';
import * as strings from 'DiscussCommandSetStrings';

import DiscussPanel from './DiscussPanel';
import { driveItemOf, isPlazaUrl, panelUrl, type IDriveItemRef } from './driveItem';
import { isPlazaApi } from './tokenHandOff';

/** ClientSideComponentProperties, set by elements.xml / ClientSideInstance.xml. */
export interface IDiscussCommandSetProperties {
  plazaUrl: string;
  plazaApi: string; // api://{host}/{client id}: the resource of the token the panel signs in with
}

const LOG_SOURCE: string = 'PlazaDiscussCommandSet';
const DISCUSS: string = 'DISCUSS';
const FILE: string = '0'; // FSObjType of a file (1 is a folder)

/** "Discuss": shown when exactly one file is selected; opens Plaza's panel for it. */
export default class DiscussCommandSet extends BaseListViewCommandSet<IDiscussCommandSetProperties> {
  public onInit(): Promise<void> {
    this._updateVisibility();
    this.context.listView.listViewStateChangedEvent.add(this, this._onListViewStateChanged);
    return Promise.resolve();
  }

  public onExecute(event: IListViewCommandSetExecuteEventParameters): void {
    if (event.itemId !== DISCUSS) {
      return;
    }
    const plazaUrl: string = (this.properties.plazaUrl || '').replace(/\/+$/, '');
    const plazaApi: string = this.properties.plazaApi || '';
    if (!isPlazaUrl(plazaUrl) || !isPlazaApi(plazaApi)) {
      Dialog.alert(strings.NotConfigured).catch(() => undefined);
      return;
    }
    const item: IDriveItemRef | undefined = driveItemOf(
      event.selectedRows[0]?.getValueByName('.spItemUrl')
    );
    if (!item) {
      Log.warn(LOG_SOURCE, 'selected row has no .spItemUrl with a drive and item id');
      Dialog.alert(strings.NotAFile).catch(() => undefined);
      return;
    }
    new DiscussPanel({
      url: panelUrl(plazaUrl, item),
      plazaOrigin: new URL(plazaUrl).origin, // as the browser spells event.origin
      resource: plazaApi,
      tokenProvider: () => this.context.aadTokenProviderFactory.getTokenProvider()
    })
      .show()
      .catch(() => undefined);
  }

  private _onListViewStateChanged = (args: ListViewStateChangedEventArgs): void => {
    this._updateVisibility();
  };

  private _updateVisibility(): void {
    const command: Command | undefined = this.tryGetCommand(DISCUSS);
    if (!command) {
      return;
    }
    const rows: readonly RowAccessor[] = this.context.listView.selectedRows || [];
    const visible: boolean = rows.length === 1 && String(rows[0].getValueByName('FSObjType')) === FILE;
    if (command.visible !== visible) {
      command.visible = visible;
      this.raiseOnChange();
    }
  }
}
