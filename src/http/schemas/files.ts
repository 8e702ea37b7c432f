import { Type, type Static } from 'typebox';
import { errorResponses, Id } from './common.js';

export const FileOut = Type.Object(
  {
    id: Type.Integer(),
    original_file_name: Type.String(),
    file_name: Type.String(),
    file_type: Type.String(),
    file_size: Type.Union([Type.Integer(), Type.Null()]),
    url: Type.Union([Type.String(), Type.Null()], {
      description: 'download URL (signed, expiring when private); null until valid',
    }),
    is_valid: Type.Boolean(),
    uploaded_by: Type.Union([Type.Integer(), Type.String(), Type.Null()], {
      description: "the uploader's id: a number for Chute's own users and numeric host ids, else the host's string",
    }),
    upload_finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'File' },
);
export type FileOutput = Static<typeof FileOut>;

export const DirectStartBody = Type.Object(
  {
    file_name: Type.String({ minLength: 1, maxLength: 255 }),
    file_type: Type.String({ minLength: 1, maxLength: 255 }),
    file_size: Type.Optional(
      Type.Integer({ minimum: 0, description: 'bytes; when given, the storage accepts exactly this size' }),
    ),
  },
  { additionalProperties: false },
);

export const DirectStartResponse = Type.Object({
  id: Type.Integer(),
  url: Type.String({ description: 'where the browser POSTs the file' }),
  fields: Type.Record(Type.String(), Type.String(), { description: 'form fields to send before `file`' }),
});

export const DirectFinishBody = Type.Object({ file_id: Id }, { additionalProperties: false });

/** What a call that makes a file valid answers (finish, multipart complete): the file, or why not. */
export const FileMadeValid = { 200: Type.Ref('File'), ...errorResponses(400, 401, 404, 409, 503) };

export const IdResponse = Type.Object({ id: Type.Integer() });

export const FileListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1 to 100, default 20' })),
    offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  },
  { additionalProperties: false },
);

export const FileListResponse = Type.Object({
  count: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
  results: Type.Array(Type.Ref('File')),
});
