import { Type } from 'typebox';
import { MULTIPART } from '../../core/storage/types.js';

const PartNumber = Type.Integer({ minimum: 1, maximum: MULTIPART.maxParts });
const Md5Base64 = Type.String({
  pattern: '^[A-Za-z0-9+/]{22}==$',
  description: 'base64 MD5 of the part (Content-MD5)',
});

export const MultipartCreateBody = Type.Object(
  {
    file_name: Type.String({ minLength: 1, maxLength: 255 }),
    file_type: Type.String({ minLength: 1, maxLength: 255 }),
    file_size: Type.Integer({ minimum: 0, description: 'bytes; the completed upload must have exactly this size' }),
  },
  { additionalProperties: false },
);

export const MultipartCreated = Type.Object({
  id: Type.Integer(),
  key: Type.String(),
  upload_id: Type.String(),
  part_size: Type.Integer({ description: 'a part size that keeps the file within 10,000 parts' }),
});

export const MultipartSignBody = Type.Object(
  {
    parts: Type.Array(
      Type.Object({ part_number: PartNumber, content_md5: Type.Optional(Md5Base64) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 100 },
    ),
  },
  { additionalProperties: false },
);

export const SignedParts = Type.Object({
  parts: Type.Array(
    Type.Object({
      part_number: Type.Integer(),
      method: Type.Literal('PUT'),
      url: Type.String(),
      headers: Type.Record(Type.String(), Type.String(), { description: 'send these headers with the PUT' }),
    }),
  ),
});

export const PartList = Type.Object({
  parts: Type.Array(Type.Object({ part_number: Type.Integer(), size: Type.Integer(), etag: Type.String() })),
});

export const MultipartCompleteBody = Type.Object(
  {
    parts: Type.Array(
      Type.Object(
        { part_number: PartNumber, etag: Type.String({ minLength: 1, maxLength: 200 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MULTIPART.maxParts },
    ),
    sha256: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{64}$',
        description: 'hex SHA-256 of the whole file; stored, and verified with local storage',
      }),
    ),
  },
  { additionalProperties: false },
);

export const SignedQuery = Type.Object({
  expires: Type.String({ pattern: '^[0-9]{1,12}$' }),
  signature: Type.String({ pattern: '^[A-Za-z0-9_-]{20,100}$' }),
});
