// Silo's version and the engine protocol's version, shown by `silo version` and the engine's info.
export const VERSION = '0.1.0';
export const API_VERSION = '1.0';
