/**
 * dcai-jupyter: the "Data history" side panel for JupyterLab 4 and Notebook 7.
 *
 * The panel follows the active notebook, lists the dataset histories in `.dcai/` beside it
 * (read through the read-only server extension, so it works with no kernel), links every
 * iteration to the cell that made it and marks those cells.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, ToolbarButton } from '@jupyterlab/apputils';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { CellMarkers } from './markers';
import { DataHistoryPanel } from './panel';

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
  '<g class="jp-icon3" fill="#616161">' +
  '<path d="M13 3a9 9 0 0 0-9 9H1l3.9 3.9.1.1L9 12H6a7 7 0 1 1 2.05 4.95l-1.42 1.42A9 9 0 1 0 13 3z"/>' +
  '<path d="M12 8v5l4.3 2.5.7-1.2-3.5-2.1V8z"/></g></svg>';

export const historyIcon = new LabIcon({ name: 'dcai-jupyter:history', svgstr: ICON_SVG });

const COMMAND = 'dcai:open-data-history';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'dcai-jupyter:data-history',
  description: 'Data history side panel for dcai_jupyter datasets',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer, ICommandPalette, IMainMenu],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    mainMenu: IMainMenu | null
  ) => {
    const markers = new CellMarkers();
    // an iteration made by another notebook opens that notebook (at its cell)
    const open = async (path: string): Promise<NotebookPanel | null> => {
      const widget = await app.commands.execute('docmanager:open', { path });
      return widget instanceof NotebookPanel ? widget : null;
    };
    const panel = new DataHistoryPanel(markers, open);
    panel.title.icon = historyIcon;
    app.shell.add(panel, 'right', { rank: 600 });
    if (restorer) {
      restorer.add(panel, panel.id);
    }

    const follow = (nb: NotebookPanel | null) => {
      panel.setNotebook(nb);
    };
    tracker.currentChanged.connect((_, nb) => follow(nb));
    void app.restored.then(() => follow(tracker.currentWidget));

    app.commands.addCommand(COMMAND, {
      label: 'Show Data History',
      caption: 'Open the Data history panel for the active notebook',
      icon: historyIcon,
      execute: () => {
        if (tracker.currentWidget) {
          follow(tracker.currentWidget);
        }
        app.shell.activateById(panel.id);
      }
    });
    if (palette) {
      palette.addItem({ command: COMMAND, category: 'Data' });
    }
    // View > Show Data History: in JupyterLab, and in Notebook 7, whose right side bar is
    // hidden until something opens in it
    if (mainMenu) {
      mainMenu.viewMenu.addGroup([{ command: COMMAND }], 100);
    }

    // A toolbar button on every notebook: the panel's way in, also in Notebook 7 where the
    // right side bar is hidden by default.
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (nbPanel: NotebookPanel) => {
        const button = new ToolbarButton({
          icon: historyIcon,
          tooltip: 'Data history',
          className: 'dcai-hp-toolbar-button',
          onClick: () => {
            follow(nbPanel);
            app.shell.activateById(panel.id);
          }
        });
        nbPanel.toolbar.insertItem(10, 'dcaiDataHistory', button);
        return button;
      }
    });
  }
};

export default plugin;
