// The package's entry in Node (the "node" condition of its exports): the whole API, with requests
// sent by fetch, as Node has no XMLHttpRequest. Browsers get index.ts and never download fetch.ts.
import { fetchTransfer } from './fetch.js';
import { transfers } from './transport.js';

transfers.fetch = fetchTransfer;

export * from './index.js';
