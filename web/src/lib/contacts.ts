/**
 * The contacts product outside React — kept as the stable import path. The
 * controller lives in web/src/contacts/ in four parts (store.ts → messaging.ts
 * → sync.ts → calls.ts), the shapes in contacts/model.ts.
 */
export { ContactsController } from '../contacts/calls';
export * from '../contacts/model';
