// Public surface of the durable outbox and its sender. Wiring (server/ composition root):
//   const outbox = new Outbox(storeDb);                        // or Outbox.open(".earshot/outbox.db")
//   const worker = new DeliveryWorker(outbox, { http: new SafeHttpClient({ allow: [storeEndpointHost] }) });
//   outbox.onSettled((s) => jobs.recordDelivery(s.sourceId, s)); worker.start();  // ... await worker.stop() before outbox.close()
// Producers: outbox.enqueueInTransaction(msg) inside the db.transaction() of the write that causes it.
export { DeliveryError, type DeliveryErrorCode } from "./delivery-errors.ts";
export { DeliveryWorker, type DeliveryWorkerOptions } from "./delivery-worker.ts";
export { Outbox, type OutboxOptions } from "./outbox.ts";
export { migrateOutbox, openOutboxDatabase, type OutboxDatabase } from "./outbox-schema.ts";
export type { DeliveryState, DeliveryStatus, OutboxMessageInput, SettledListener } from "./outbox-types.ts";
export { DEFAULT_RETRY, type RetryOptions } from "./retry-schedule.ts";
