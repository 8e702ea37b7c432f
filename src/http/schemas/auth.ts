import { Type } from 'typebox';

export const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const UserOut = Type.Object(
  { id: Type.Integer(), email: Type.String(), is_staff: Type.Boolean() },
  { $id: 'User' },
);

export const LoginResponse = Type.Object({
  session: Type.String({ description: 'send as Authorization: Bearer <session>' }),
  user: Type.Ref('User'),
});
