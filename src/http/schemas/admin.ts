import { Type, type Static } from 'typebox';
import { ADMIN_FILE_SORTS, BULK_DELETE_MAX } from '../../core/files/admin.js';
import { DELIVERIES_PAGE_MAX, DELIVERY_STATES, EVENT_TYPES } from '../../core/events/outbox.js';
import { Id } from './common.js';

const DateTime = Type.String({ format: 'date-time' });
/** One of a list of strings, typed as their union. */
const OneOf = <T extends string>(values: readonly T[]) =>
  Type.Unsafe<T>(Type.Union(values.map((value) => Type.Literal(value))));
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const AdminFileOut = Type.Object(
  {
    id: Type.Integer(),
    original_file_name: Type.String(),
    file_name: Type.String({ description: 'the generated name the object is stored under' }),
    file_type: Type.String(),
    file_size: Nullable(Type.Integer()),
    url: Nullable(Type.String({ description: 'download URL (signed, expiring when private); null until valid' })),
    is_valid: Type.Boolean(),
    uploaded_by: Nullable(Type.Union([Type.Integer(), Type.String()])),
    uploaded_by_email: Nullable(Type.String()),
    upload_method: Type.String({ description: 'post, multipart, put or standard (through the server)' }),
    upload_finished_at: Nullable(DateTime),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { description: 'a file as staff see it' },
);
export type AdminFileOutput = Static<typeof AdminFileOut>;

export const AdminUserOut = Type.Object(
  {
    id: Type.Integer(),
    email: Type.String(),
    is_staff: Type.Boolean(),
    is_active: Type.Boolean(),
    created_at: DateTime,
    file_count: Type.Integer({ description: 'files recorded as uploaded by this user' }),
  },
  { description: 'a user as staff see them' },
);
export type AdminUserOutput = Static<typeof AdminUserOut>;

const Digits = (description: string, max = 9) => Type.String({ pattern: `^[0-9]{1,${max}}$`, description });

export const AdminFileListQuery = Type.Object(
  {
    search: Type.Optional(
      Type.String({ maxLength: 255, description: 'part of the original or generated name, case-insensitive' }),
    ),
    status: Type.Optional(
      Type.Union([Type.Literal('valid'), Type.Literal('pending')], {
        description: 'valid (finished) or pending files only',
      }),
    ),
    uploaded_by: Type.Optional(Digits('only the files of this user id', 15)),
    sort: Type.Optional(
      Type.Union(
        ADMIN_FILE_SORTS.map((sort) => Type.Literal(sort)),
        { description: 'column to sort by; default id' },
      ),
    ),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { description: 'default desc' })),
    limit: Type.Optional(Digits('1 to 200, default 50', 4)),
    offset: Type.Optional(Digits('rows to skip, default 0')),
  },
  { additionalProperties: false },
);

export const AdminFileListResponse = Type.Object({
  count: Type.Integer({ description: 'files matching the search and filters' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
  results: Type.Array(AdminFileOut),
});

export const AdminReplaceResponse = Type.Object({
  file: AdminFileOut,
  previous_removed: Type.Boolean({
    description: 'false when the old object could not be deleted (it is then an orphan in the storage)',
  }),
});

export const BulkDeleteBody = Type.Object(
  { ids: Type.Array(Id, { minItems: 1, maxItems: BULK_DELETE_MAX }) },
  { additionalProperties: false },
);

export const BulkDeleteResponse = Type.Object({
  deleted: Type.Array(Type.Integer()),
  not_found: Type.Array(Type.Integer(), { description: 'ids that matched no file (deleted already, perhaps)' }),
});

export const DeletePendingBody = Type.Object(
  {
    older_than_hours: Type.Number({
      minimum: 0,
      maximum: 24 * 365 * 10,
      description: 'pending files started longer ago than this are deleted',
    }),
  },
  { additionalProperties: false },
);

export const DeletePendingResponse = Type.Object({
  deleted: Type.Integer(),
  ids: Type.Array(Type.Integer()),
  cutoff: DateTime,
  failed: Type.Array(Type.Object({ id: Type.Integer(), key: Type.String(), reason: Type.String() }), {
    description:
      'records removed whose stored data could not be deleted (storage unreachable); the run stops at the first',
  }),
});

export const AdminSettingsResponse = Type.Object({
  storage: Type.Union([Type.Literal('local'), Type.Literal('s3')]),
  admin_max_size: Type.Integer({
    description: 'largest file added or replaced through the server (FILE_ADMIN_MAX_SIZE)',
  }),
  direct_max_size: Type.Integer({ description: 'largest direct upload (FILE_MAX_SIZE_DIRECT)' }),
  allowed_types: Type.Array(Type.String()),
});

export const AdminUserListQuery = Type.Object(
  {
    search: Type.Optional(Type.String({ maxLength: 254, description: 'part of the email' })),
    limit: Type.Optional(Digits('1 to 500, default 50', 4)),
    offset: Type.Optional(Digits('rows to skip, default 0')),
  },
  { additionalProperties: false },
);

export const AdminUserListResponse = Type.Object({
  count: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
  results: Type.Array(AdminUserOut),
});

export const AdminUserCreateBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    is_staff: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

export const AdminPasswordBody = Type.Object(
  { password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const WebhookDeliveryOut = Type.Object({
  id: Type.Integer(),
  event_id: Type.String({ description: 'the webhook-id header: the same on every attempt' }),
  event_type: OneOf(EVENT_TYPES),
  endpoint: Type.String({ description: 'the receiving URL without its query (which may hold a token)' }),
  state: OneOf(DELIVERY_STATES),
  attempts: Type.Integer(),
  last_status: Nullable(Type.Integer({ description: 'the HTTP status of the last attempt' })),
  last_error: Nullable(Type.String({ description: 'why the last attempt failed' })),
  next_attempt_at: Nullable(DateTime),
  created_at: DateTime,
  delivered_at: Nullable(DateTime),
});
export type WebhookDeliveryOutput = Static<typeof WebhookDeliveryOut>;

export const WebhookDeliveriesQuery = Type.Object(
  {
    state: Type.Optional(OneOf(DELIVERY_STATES)),
    before_id: Type.Optional(Digits('the next_before_id of the page before', 15)),
    limit: Type.Optional(Digits(`1 to ${DELIVERIES_PAGE_MAX}, default 50`, 4)),
  },
  { additionalProperties: false },
);

export const WebhookDeliveriesResponse = Type.Object({
  endpoints: Type.Array(Type.String(), {
    description: 'where events are sent (WEBHOOK_URLS); empty: webhooks are off',
  }),
  results: Type.Array(WebhookDeliveryOut),
  next_before_id: Nullable(Type.Integer()),
});
