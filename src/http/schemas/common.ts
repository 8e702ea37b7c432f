import { Type } from 'typebox';

export const ErrorResponse = Type.Object(
  {
    code: Type.String({ description: 'stable machine-readable error code' }),
    message: Type.String(),
    extra: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'Error', description: 'Every error has this shape' },
);

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, Type.Ref('Error')]));

/**
 * The error answers of a route that creates a record, and any other 4xx: inside a host app
 * (@chute/server), its onUploadStart hook may refuse with a status and code of its own (403
 * quota_exceeded).
 */
export const startErrorResponses = (...statuses: number[]) => ({
  ...errorResponses(...statuses),
  '4xx': Type.Ref('Error', {
    description: "Refused by the host app's onUploadStart (@chute/server), with its own status and code",
  }),
});

/** Ids arrive as path segments: digits only, so "abc" and "1e3" are a clear 400, never a 500. */
export const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,15}$', description: 'numeric id' }) });

export const Id = Type.Union(
  [Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.String({ pattern: '^[0-9]{1,15}$' })],
  {
    description: 'a numeric id, as a number or a string of digits',
  },
);

export const Empty = Type.Object({});
