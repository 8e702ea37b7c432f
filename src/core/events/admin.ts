// What staff see of the webhooks and do with them: the deliveries, newest first, and "send again".
import { notFound } from '../../errors.js';
import { type Actor, assertStaff } from '../actor.js';
import type { FilesContext } from '../files/services.js';
import {
  DELIVERIES_PAGE_MAX,
  type Delivery,
  type DeliveryState,
  findDelivery,
  listDeliveries,
  resendDelivery,
} from './outbox.js';

type EventsContext = Pick<FilesContext, 'db' | 'events'>;

/** A page of deliveries (newest first) and where the next one starts (null: this is the last). */
export async function webhookDeliveriesList(
  ctx: EventsContext,
  {
    actor,
    limit = 50,
    beforeId,
    state,
  }: { actor: Actor; limit?: number; beforeId?: number | undefined; state?: DeliveryState | undefined },
): Promise<{ deliveries: Delivery[]; nextBeforeId: number | null }> {
  assertStaff(actor);
  const size = Math.min(Math.max(limit, 1), DELIVERIES_PAGE_MAX);
  const deliveries = await listDeliveries(ctx.db, { limit: size + 1, beforeId, state });
  const more = deliveries.length > size;
  const page = deliveries.slice(0, size);
  return { deliveries: page, nextBeforeId: more ? page[page.length - 1]!.id : null };
}

/** Sends a delivery again now, whatever became of it, with a new day of retries; the delivery as it now is. */
export async function webhookDeliveryResend(
  ctx: EventsContext,
  { actor, id }: { actor: Actor; id: number },
): Promise<Delivery> {
  assertStaff(actor);
  if (!(await resendDelivery(ctx.db, { id }))) throw notFound('delivery');
  ctx.events?.wake();
  const delivery = await findDelivery(ctx.db, id);
  if (!delivery) throw notFound('delivery');
  return delivery;
}
