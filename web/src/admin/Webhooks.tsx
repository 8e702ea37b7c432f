import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { useAnnounce } from '../Announcer';
import { formatDate } from '../format';
import { TableHead } from '../TableHead';
import { useListPage } from '../useListPage';
import type { AdminContext } from './AdminApp';
import { listDeliveries, resendDelivery, type Delivery, type DeliveryPage, type DeliveryState } from './api';
import { Blank, Notice, useTitle, When } from './ui';

const STATES: Record<DeliveryState, { label: string; badge: string }> = {
  pending: { label: 'Waiting', badge: 'pending' },
  delivered: { label: 'Delivered', badge: 'valid' },
  failed: { label: 'Failed', badge: 'failed' },
};
const COLUMNS = [
  'Event',
  'Event ID',
  'Endpoint',
  'State',
  'Attempts',
  'Last answer',
  'Next try or delivered',
  'Created',
];
/** How soon a page with a delivery about to be tried is fetched again, to show how it went. */
const POLL_MS = 2000;
/** A waiting delivery due within this is "about to be tried"; later ones wait for Refresh. */
const SOON_MS = 60_000;
/** How often a resent delivery is looked at until it has been tried. */
const WATCH_MS = 500;

type Message = { kind: 'ok' | 'error' | 'warn'; text: string } | null;

const describe = (delivery: Delivery) => `${delivery.event_type} ${delivery.event_id} to ${delivery.endpoint}`;

/** Webhook deliveries, newest first: how each went, and "Send again". */
export function Webhooks({ context }: { context: AdminContext }) {
  useTitle('Webhooks');
  const { fail } = context;
  const [state, setState] = useState<DeliveryState | ''>('');
  // the before_id of each page from the newest down to the one shown (none: the newest page)
  const [cursors, setCursors] = useState<number[]>([]);
  const title = useRef<HTMLHeadingElement>(null);
  const beforeId = cursors.at(-1);

  const load = useCallback(
    (signal: AbortSignal) => listDeliveries({ ...(state && { state }), beforeId, signal }),
    [state, beforeId],
  );
  const { page, rows, loading, error, reload } = useListPage<DeliveryPage>(load, fail);
  const resend = useResend(fail, reload);
  usePolling(rows, loading, reload);

  return (
    <section aria-labelledby="admin-webhooks-title" aria-busy={loading}>
      <h1 id="admin-webhooks-title" ref={title} tabIndex={-1}>
        Webhooks
      </h1>
      {page && <Endpoints endpoints={page.endpoints} />}
      <StateFilter
        state={state}
        onState={(next) => {
          setCursors([]);
          setState(next);
        }}
      />
      {resend.message && (
        <Notice kind={resend.message.kind} testId="admin-message">
          {/* an endpoint is one long word: it may break anywhere on a phone */}
          <span className="break">{resend.message.text}</span>
        </Notice>
      )}
      {error && (
        <Notice kind="error" testId="webhooks-error">
          {error}
        </Notice>
      )}
      <div className="admin-bar">
        <p className="muted admin-bar__count" data-testid="webhook-count">
          {!page ? 'Loading…' : rows.length === 0 ? (state ? 'No deliveries match.' : 'No deliveries yet.') : ''}
        </p>
        <button type="button" className="button button--small" onClick={reload} disabled={loading}>
          Refresh
        </button>
      </div>
      {rows.length > 0 && (
        <DeliveriesTable deliveries={rows} loading={loading} sending={resend.sending} onResend={resend.send} />
      )}
      <CursorPager
        newer={cursors.length > 0}
        older={page?.next_before_id ?? null}
        busy={loading}
        onPage={setCursors}
        top={title}
      />
    </section>
  );
}

/**
 * "Send again" for one delivery, and then what came of it, told once the delivery has been tried
 * (followed by itself: the page shown may not hold it, e.g. under the "Failed" filter).
 */
function useResend(fail: (caught: unknown) => string, reload: () => void) {
  const announce = useAnnounce();
  const [sending, setSending] = useState<number | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const unmounted = useRef(new AbortController());
  useEffect(() => {
    const controller = new AbortController();
    unmounted.current = controller;
    return () => controller.abort();
  }, []);

  const tell = (next: NonNullable<Message>) => {
    setMessage(next);
    announce(next.text);
  };

  async function send(delivery: Delivery) {
    const { signal } = unmounted.current;
    setSending(delivery.id);
    try {
      const resent = await resendDelivery(delivery.id);
      tell({ kind: 'ok', text: `Sending again: ${describe(resent)}.` });
      reload();
      const outcome = await untilTried(resent, signal);
      if (outcome) tell(outcomeMessage(outcome));
    } catch (caught) {
      if (!signal.aborted) tell({ kind: 'error', text: fail(caught) });
    } finally {
      if (!signal.aborted) {
        setSending(null);
        reload();
      }
    }
  }
  return { sending, message, send: (delivery: Delivery) => void send(delivery) };
}

/** The delivery once tried after `resent` (null: not within a minute, or it is gone). */
async function untilTried(resent: Delivery, signal: AbortSignal): Promise<Delivery | null> {
  const deadline = Date.now() + SOON_MS;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
    // the API has no single delivery: the page that starts at it
    const [now] = (await listDeliveries({ beforeId: resent.id + 1, limit: 1, signal })).results;
    if (now?.id !== resent.id) return null;
    if (now.state !== 'pending' || now.attempts > resent.attempts) return now;
  }
  return null;
}

function outcomeMessage(delivery: Delivery): NonNullable<Message> {
  const what = describe(delivery);
  if (delivery.state === 'delivered') return { kind: 'ok', text: `Delivered: ${what}.` };
  if (delivery.state === 'failed')
    return { kind: 'error', text: `Failed again: ${what} (${lastAnswer(delivery) || 'no answer'}).` };
  return {
    kind: 'warn',
    text: `Not delivered yet: ${what} (${lastAnswer(delivery) || 'no answer'}). Next try: ${formatDate(delivery.next_attempt_at)}.`,
  };
}

/** Fetches the page again while a delivery on it is about to be tried, so its outcome shows. */
function usePolling(rows: Delivery[], loading: boolean, reload: () => void) {
  useEffect(() => {
    if (loading) return;
    const soon = Date.now() + SOON_MS;
    const due = rows.some(
      (row) => row.state === 'pending' && (!row.next_attempt_at || Date.parse(row.next_attempt_at) <= soon),
    );
    if (!due) return;
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [rows, loading, reload]);
}

function Endpoints({ endpoints }: { endpoints: string[] }) {
  if (endpoints.length === 0)
    return (
      <Notice kind="warn" testId="webhooks-off">
        Webhooks are off: no events are sent. To send them, set WEBHOOK_URLS and WEBHOOK_SECRET on the server.
      </Notice>
    );
  return (
    <div className="card admin-endpoints" data-testid="webhook-endpoints">
      <p>Events are sent to:</p>
      <ul>
        {endpoints.map((endpoint) => (
          <li key={endpoint} className="admin-mono break">
            {endpoint}
          </li>
        ))}
      </ul>
    </div>
  );
}

function StateFilter({ state, onState }: { state: DeliveryState | ''; onState: (state: DeliveryState | '') => void }) {
  return (
    <div className="card admin-filters">
      <div className="admin-field">
        <label htmlFor="webhook-state">State</label>
        <select
          id="webhook-state"
          value={state}
          onChange={(event) => onState(event.target.value as DeliveryState | '')}
          data-testid="webhook-state"
        >
          <option value="">All</option>
          {Object.entries(STATES).map(([value, { label }]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}

type RowProps = { sending: number | null; onResend: (delivery: Delivery) => void };

function DeliveriesTable({ deliveries, loading, ...row }: { deliveries: Delivery[]; loading: boolean } & RowProps) {
  return (
    // biome-ignore lint/a11y/useSemanticElements: a named region (the table scrolls sideways on a narrow screen)
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls must be reachable by keyboard
    <div className="admin-table-wrap" role="region" aria-label="Table of webhook deliveries" tabIndex={0}>
      <table
        className={`admin-table admin-table--compact${loading ? ' admin-table--loading' : ''}`}
        data-testid="webhooks-table"
      >
        <caption className="visually-hidden">Webhook deliveries, newest first</caption>
        <TableHead columns={COLUMNS} numeric={['Attempts']} />
        <tbody>
          {deliveries.map((delivery) => (
            <DeliveryRow key={delivery.id} delivery={delivery} {...row} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The error of the last attempt (which names its HTTP status), its status when it worked, or "". */
const lastAnswer = (delivery: Delivery) =>
  delivery.last_error ?? (delivery.last_status === null ? '' : `HTTP ${delivery.last_status}`);

function DeliveryRow({ delivery, sending, onResend }: { delivery: Delivery } & RowProps) {
  const state = STATES[delivery.state];
  const answer = lastAnswer(delivery);
  const action = sending === delivery.id ? 'Sending…' : 'Send again';
  return (
    <tr data-testid="webhook-row" data-id={delivery.id} data-event={delivery.event_id} data-state={delivery.state}>
      <td data-label="Event">{delivery.event_type}</td>
      <th scope="row" className="admin-table__name admin-mono" data-label="Event ID" title={delivery.event_id}>
        <span>{delivery.event_id}</span>
      </th>
      <td data-label="Endpoint" className="admin-mono" title={delivery.endpoint}>
        {delivery.endpoint}
      </td>
      <td data-label="State">
        <span className={`badge badge--${state.badge}`}>{state.label}</span>
      </td>
      <td className="num" data-label="Attempts">
        {delivery.attempts}
      </td>
      <td data-label="Last answer" title={answer || undefined} data-testid="webhook-answer">
        {answer || <Blank />}
      </td>
      <td data-label="Next try or delivered">
        <When iso={delivery.state === 'pending' ? delivery.next_attempt_at : delivery.delivered_at} />
      </td>
      <td data-label="Created">
        <When iso={delivery.created_at} />
      </td>
      <td className="admin-table__actions">
        <button
          type="button"
          className="button button--small"
          disabled={sending === delivery.id}
          onClick={() => onResend(delivery)}
          // the visible words first, so that voice control finds the button by them
          aria-label={`${action}: ${describe(delivery)}`}
          data-testid="webhook-resend"
        >
          {action}
        </button>
      </td>
    </tr>
  );
}

/** Newer / Older through the list by cursor (the API gives the next page's before_id, no count). */
function CursorPager({
  newer,
  older,
  busy,
  onPage,
  top,
}: {
  newer: boolean;
  older: number | null;
  busy: boolean;
  onPage: (update: (cursors: number[]) => number[]) => void;
  top: RefObject<HTMLElement | null>;
}) {
  if (!newer && older === null) return null;
  // as Pager does: the pressed button may be disabled next, so the focus goes to the heading
  const go = (update: (cursors: number[]) => number[]) => {
    onPage(update);
    top.current?.focus();
  };
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" className="button" disabled={!newer || busy} onClick={() => go((c) => c.slice(0, -1))}>
        Newer
      </button>
      <button
        type="button"
        className="button"
        disabled={older === null || busy}
        onClick={() => older !== null && go((c) => [...c, older])}
        data-testid="webhooks-older"
      >
        Older
      </button>
    </nav>
  );
}
