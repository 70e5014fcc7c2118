/**
 * The contacts product outside React — kept as the stable import path. The
 * controller lives in web/src/contacts/ in six parts (store.ts → conversations.ts
 * → messaging.ts → sync.ts → calls.ts → callMedia.ts), the shapes in contacts/model.ts.
 */
export { ContactsController } from '../contacts/callMedia';
export * from '../contacts/model';
