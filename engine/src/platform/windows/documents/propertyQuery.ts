// Queries sent to HCS: System_PropertyQuery for HcsGetComputeSystemProperties, SystemQuery for
// HcsEnumerateComputeSystems, the service query for HcsGetServiceProperties (SchemaReference.md).

export type PropertyType = 'Memory' | 'Statistics' | 'ProcessList' | 'TerminateOnLastHandleClosed' | 'GuestConnection';

export interface PropertyQuery {
  PropertyTypes: PropertyType[];
}

export const statisticsQuery = (): PropertyQuery => ({ PropertyTypes: ['Statistics'] });
export const processListQuery = (): PropertyQuery => ({ PropertyTypes: ['ProcessList'] });

export interface SystemQuery {
  Ids?: string[];
  Names?: string[];
  Types?: Array<'Container' | 'VirtualMachine'>;
  Owners?: string[];
}

/** Every container this engine created (a unique Owner finds leftovers after a crash, as Docker does). */
export const ownedContainersQuery = (owner: string): SystemQuery => ({ Types: ['Container'], Owners: [owner] });

export const servicePropertiesQuery = (): { PropertyTypes: ['Basic'] } => ({ PropertyTypes: ['Basic'] });
