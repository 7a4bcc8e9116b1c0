// The Windows layer format in pure TypeScript: the layer tar (go-winio backuptar), the Win32 backup
// stream, and the ImportLayer/ExportLayer transport folder, with the path safety every writer needs.
export * from './entry';
export * from './backupStream';
export * from './extendedAttributes';
export * from './reparsePoint';
export * from './paxRecords';
export * from './layerPath';
export * from './backupEntry';
export * from './tarReader';
export * from './tarWriter';
export * from './transportFolder';
