// Every id the manifest (package.json `contributes`) and the code must agree on, in one place.
export const VIEW_CONTAINER = 'silo';

export const ViewIds = {
  containers: 'silo.views.containers',
  images: 'silo.views.images',
  layers: 'silo.views.layers',
} as const;

/** Exact `contextValue`s of tree items; the manifest matches them with `viewItem == ...`. */
export const ContextValues = {
  containerRunning: 'silo.container.running',
  containerStopped: 'silo.container.stopped',
  containerGroup: 'silo.containerGroup',
  image: 'silo.image',
  historyRow: 'silo.layer',
  change: 'silo.change',
  changeDeleted: 'silo.change.deleted',
  layerFile: 'silo.layerFile',
  layerFileDeleted: 'silo.layerFile.deleted',
  layerFileMore: 'silo.layerFile.more',
  layersHeader: 'silo.layers.header',
} as const;

/** Context keys set with `setContext`, read by `viewsWelcome` and menus. */
export const ContextKeys = {
  engineState: 'silo.engineState',
  hasContainers: 'silo.hasContainers',
  hasImages: 'silo.hasImages',
  danglingShown: 'silo.danglingShown',
} as const;

export const SCHEME_FILES = 'silo';
export const SCHEME_LOGS = 'silo-log';
export const LOG_LANGUAGE = 'silo-log';
export const TASK_BUILD = 'silo-build';
export const TASK_RUN = 'silo-run';
export const DEBUG_TYPE = 'silo';
