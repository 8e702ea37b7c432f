// A webhook receiver for tests: a real HTTP server on a free 127.0.0.1 port that checks every
// request as a host app would, with the standardwebhooks library, and keeps what arrived. It can
// answer another status, hold requests unanswered, or go down and come back on the same port.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { defer } from '../helpers.js';

export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export interface Arrival {
  id: string;
  type: string;
  timestamp: string;
  data: any;
  /** whether standardwebhooks accepted its signature with the secret */
  verified: boolean;
  at: number;
}

export interface Receiver {
  url: string;
  secret: string;
  /** every request that arrived and was answered 2xx, in order */
  delivered: Arrival[];
  /** every request that arrived, whatever it was answered */
  requests: Arrival[];
  /** the status answered from now on (held requests stay unanswered) */
  answer(status: number): void;
  /** from now on, requests are read and never answered */
  hold(): void;
  /** closes the port (and drops open connections) */
  down(): Promise<void>;
  /** listens again on the same port */
  up(): Promise<void>;
  /** waits until `count` deliveries arrived (or fails after timeoutMs) */
  waitFor(count: number, timeoutMs?: number): Promise<Arrival[]>;
}

export async function startReceiver(t: { after(fn: () => unknown): void }, path = '/hooks/chute'): Promise<Receiver> {
  const secret = newWebhookSecret();
  const verifier = new Webhook(secret);
  let status = 204;
  let holding = false;
  const delivered: Arrival[] = [];
  const requests: Arrival[] = [];
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let verified = true;
    try {
      verifier.verify(body, req.headers as Record<string, string>);
    } catch {
      verified = false;
    }
    const event = JSON.parse(body);
    const arrival: Arrival = { id: String(req.headers['webhook-id']), ...event, verified, at: Date.now() };
    requests.push(arrival);
    if (holding) return;
    if (status >= 200 && status < 300) delivered.push(arrival);
    res.writeHead(status).end();
  };

  let server: Server;
  let port = 0;
  const listen = async () => {
    server = createServer((req, res) => void handle(req, res));
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const down = async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await listen();
  defer(t, () => (server.listening ? down() : undefined));

  return {
    url: `http://127.0.0.1:${port}${path}`,
    secret,
    delivered,
    requests,
    answer: (next) => {
      status = next;
      holding = false;
    },
    hold: () => {
      holding = true;
    },
    down,
    up: listen,
    async waitFor(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (delivered.length < count) {
        if (Date.now() > deadline)
          throw new Error(`${delivered.length} of ${count} webhooks arrived within ${timeoutMs / 1000} s`);
        await sleep(25);
      }
      return delivered;
    },
  };
}
