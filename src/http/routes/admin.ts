// The admin API for staff: everyone's files and the users. Every route here requires a session
// (401 without) of a staff user (403 permission_denied otherwise), checked by the plugin's hooks
// before anything else runs. The work is done by src/core/files/admin.ts and src/users/admin.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { onRequestHookHandler } from 'fastify';
import type { Kysely } from 'kysely';
import {
  adminFileCreate,
  adminFileDelete,
  adminFileGet,
  adminFileList,
  adminFileReplace,
  adminFilesDelete,
  adminFilesDeletePendingOrStop,
  type AdminFileRecord,
  type AdminFilesContext,
} from '../../core/files/admin.js';
import { webhookDeliveriesList, webhookDeliveryResend } from '../../core/events/admin.js';
import { endpointForLog } from '../../core/events/delivery.js';
import type { Delivery } from '../../core/events/outbox.js';
import type { FilesContext } from '../../core/files/services.js';
import type { Database } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import {
  adminUserCreate,
  adminUserList,
  adminUserSetActive,
  adminUserSetPassword,
  type AdminUser,
} from '../../users/admin.js';
import { actorIdOf } from '../../users/ids.js';
import { withFormFile } from '../form-file.js';
import { actorOf, requireStaff, onFileNoContent } from '../plugins/auth.js';
import {
  AdminFileListQuery,
  AdminFileListResponse,
  AdminFileOut,
  AdminPasswordBody,
  AdminReplaceResponse,
  AdminSettingsResponse,
  AdminUserCreateBody,
  AdminUserListQuery,
  AdminUserListResponse,
  AdminUserOut,
  BulkDeleteBody,
  BulkDeleteResponse,
  DeletePendingBody,
  DeletePendingResponse,
  WebhookDeliveriesQuery,
  WebhookDeliveriesResponse,
  WebhookDeliveryOut,
  type AdminFileOutput,
  type AdminUserOutput,
  type WebhookDeliveryOutput,
} from '../schemas/admin.js';
import { Empty, errorResponses, IdParams } from '../schemas/common.js';
import { fileJson } from '../../core/files/json.js';

export interface AdminRoutesOptions {
  files: AdminFilesContext;
  /** Chute's own users, which the user admin manages */
  userDb: Kysely<Database>;
  /** largest file staff add or replace (FILE_ADMIN_MAX_SIZE) */
  adminMaxSize: number;
  requireUser: onRequestHookHandler;
}

/** The public file shape plus what staff see besides. */
export async function serializeAdminFile(ctx: FilesContext, file: AdminFileRecord): Promise<AdminFileOutput> {
  return {
    ...(await fileJson(ctx, file)),
    uploaded_by_email: file.uploaded_by_email,
    upload_method: file.upload_method,
    updated_at: file.updated_at.toISOString(),
  };
}

export const serializeAdminUser = (user: AdminUser): AdminUserOutput => ({
  id: user.id,
  email: user.email,
  is_staff: user.is_staff,
  is_active: user.is_active,
  created_at: user.created_at.toISOString(),
  file_count: user.file_count,
});

/** The uploader an admin upload is recorded under: the form's `uploaded_by`, else the caller. */
function uploadedByOf(field: string | undefined, callerId: string): string {
  const raw = field?.trim();
  if (raw !== undefined && raw !== '' && !/^[0-9]{1,15}$/.test(raw)) {
    throw new AppError('validation_failed', 'uploaded_by must be a user id.', {
      fields: { uploaded_by: ['Must be a number.'] },
    });
  }
  return raw ? actorIdOf(Number(raw)) : callerId;
}

const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = async (
  app,
  { files, userDb, adminMaxSize, requireUser },
) => {
  // first who (401), then staff (403): before any body is read, on every route of this plugin
  app.addHook('onRequest', requireUser);
  app.addHook('onRequest', async (request) => requireStaff(request));

  const security: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }];
  const fileTags = ['admin: files'];
  const userTags = ['admin: users'];
  const File = AdminFileOut;
  const User = AdminUserOut;

  app.get(
    '/api/admin/settings/',
    {
      schema: {
        tags: fileTags,
        security,
        summary: 'What the admin page needs to know: storage kind and size limits',
        response: { 200: AdminSettingsResponse, ...errorResponses(401, 403) },
      },
    },
    async () => ({
      storage: files.storage.kind,
      admin_max_size: adminMaxSize,
      direct_max_size: files.policy.maxSize,
      allowed_types: [...(files.policy.allowedTypes ?? [])],
    }),
  );

  // ---------- files ----------

  app.get(
    '/api/admin/files/',
    {
      schema: {
        tags: fileTags,
        security,
        summary: "Everyone's files: search by name, filter by state and uploader, sort by any column, page by offset",
        querystring: AdminFileListQuery,
        response: { 200: AdminFileListResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { search, status, uploaded_by, sort, order } = request.query;
      const limit = Math.min(Math.max(Number(request.query.limit ?? 50), 1), 200);
      const offset = Number(request.query.offset ?? 0);
      const { count, files: rows } = await adminFileList(files, {
        search,
        status,
        sort,
        order,
        limit,
        offset,
        uploadedBy: uploaded_by === undefined ? undefined : actorIdOf(Number(uploaded_by)),
      });
      return { count, limit, offset, results: await Promise.all(rows.map((file) => serializeAdminFile(files, file))) };
    },
  );

  app.post(
    '/api/admin/files/',
    {
      schema: {
        tags: fileTags,
        security,
        summary:
          'Add a file through the server (streamed): multipart field `uploaded_by` (a user id, default yourself) first, then `file`; name and type inferred, valid at once',
        consumes: ['multipart/form-data'],
        response: { 201: File, ...errorResponses(400, 401, 403, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const file = await withFormFile(request, adminMaxSize, ({ body, fileName, clientType, field }) =>
        adminFileCreate(files, {
          uploadedBy: uploadedByOf(field('uploaded_by'), actorOf(request).id),
          body,
          fileName,
          clientType,
          maxSize: adminMaxSize,
        }),
      );
      return reply.status(201).send(await serializeAdminFile(files, file));
    },
  );

  app.post(
    '/api/admin/files/bulk-delete/',
    {
      schema: {
        tags: fileTags,
        security,
        summary: 'Delete the given files (object, then record, one by one); stops with 503 if the storage fails',
        body: BulkDeleteBody,
        response: { 200: BulkDeleteResponse, ...errorResponses(400, 401, 403, 409, 503) },
      },
    },
    async (request) => {
      const { deleted, notFound } = await adminFilesDelete(files, {
        actor: actorOf(request),
        fileIds: request.body.ids.map(Number),
      });
      return { deleted, not_found: notFound };
    },
  );

  app.post(
    '/api/admin/files/delete-pending/',
    {
      schema: {
        tags: fileTags,
        security,
        summary:
          'Delete every pending (unfinished) file started more than `older_than_hours` ago, with what its upload stored',
        body: DeletePendingBody,
        response: { 200: DeletePendingResponse, ...errorResponses(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const report = await adminFilesDeletePendingOrStop(files, {
        olderThanHours: request.body.older_than_hours,
        onFailed: (failed) => request.log.warn({ failed }, 'admin delete-pending: stored data left behind'),
      });
      return { deleted: report.removed.length, ids: report.removed, cutoff: report.cutoff.toISOString(), failed: [] };
    },
  );

  app.get(
    '/api/admin/files/:id/',
    {
      schema: {
        tags: fileTags,
        security,
        summary: 'One file, whoever uploaded it',
        params: IdParams,
        response: { 200: File, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => serializeAdminFile(files, await adminFileGet(files, { fileId: Number(request.params.id) })),
  );

  app.post(
    '/api/admin/files/:id/replace/',
    {
      schema: {
        tags: fileTags,
        security,
        summary:
          "Replace a file's bytes through the server (multipart field `file`): new generated name, type inferred again, the old object deleted once the new one is stored",
        consumes: ['multipart/form-data'],
        params: IdParams,
        response: { 200: AdminReplaceResponse, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request) => {
      const { file, previousRemoved } = await withFormFile(request, adminMaxSize, ({ body, fileName, clientType }) =>
        adminFileReplace(files, {
          fileId: Number(request.params.id),
          body,
          fileName,
          clientType,
          maxSize: adminMaxSize,
        }),
      );
      if (!previousRemoved) request.log.warn({ fileId: file.id }, 'admin replace: the old object could not be deleted');
      return { file: await serializeAdminFile(files, file), previous_removed: previousRemoved };
    },
  );

  app.delete(
    '/api/admin/files/:id/',
    {
      schema: {
        tags: fileTags,
        security,
        summary: 'Delete a file: an open multipart upload is aborted, then the stored object, then the record',
        params: IdParams,
        response: { 204: Empty, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    onFileNoContent(files, adminFileDelete),
  );

  // ---------- users ----------

  app.get(
    '/api/admin/users/',
    {
      schema: {
        tags: userTags,
        security,
        summary: 'Users by email, with how many files each has',
        querystring: AdminUserListQuery,
        response: { 200: AdminUserListResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = Math.min(Math.max(Number(request.query.limit ?? 50), 1), 500);
      const offset = Number(request.query.offset ?? 0);
      const { count, users } = await adminUserList(userDb, { search: request.query.search, limit, offset });
      return { count, limit, offset, results: users.map(serializeAdminUser) };
    },
  );

  app.post(
    '/api/admin/users/',
    {
      schema: {
        tags: userTags,
        security,
        summary: 'Create a user (email, password, staff flag)',
        body: AdminUserCreateBody,
        response: { 201: User, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const { email, password, is_staff } = request.body;
      const user = await adminUserCreate(userDb, { email, password, isStaff: is_staff ?? false });
      return reply.status(201).send(serializeAdminUser(user));
    },
  );

  // deactivate and activate differ only in the flag they set
  const setActive = [
    {
      action: 'deactivate',
      isActive: false,
      errors: [400, 401, 403, 404, 409] as const,
      summary: 'Deactivate a user: they cannot sign in and every session of theirs ends now',
    },
    {
      action: 'activate',
      isActive: true,
      errors: [400, 401, 403, 404] as const,
      summary: 'Reactivate a deactivated user',
    },
  ];
  for (const { action, isActive, errors, summary } of setActive) {
    app.post(
      `/api/admin/users/:id/${action}/`,
      {
        schema: {
          tags: userTags,
          security,
          summary,
          params: IdParams,
          response: { 200: User, ...errorResponses(...errors) },
        },
      },
      async (request) =>
        serializeAdminUser(
          await adminUserSetActive(userDb, {
            actorId: actorOf(request).id,
            userId: Number(request.params.id),
            isActive,
          }),
        ),
    );
  }

  app.post(
    '/api/admin/users/:id/password/',
    {
      schema: {
        tags: userTags,
        security,
        summary: 'Set a new password for a user; their sessions end',
        params: IdParams,
        body: AdminPasswordBody,
        response: { 200: User, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      serializeAdminUser(
        await adminUserSetPassword(userDb, { userId: Number(request.params.id), password: request.body.password }),
      ),
  );

  // ---------- webhooks ----------

  const webhookTags = ['admin: webhooks'];
  app.get(
    '/api/admin/webhooks/deliveries/',
    {
      schema: {
        tags: webhookTags,
        security,
        summary: 'The webhook deliveries, newest first: event, endpoint, attempts, last status or error, next try',
        querystring: WebhookDeliveriesQuery,
        response: { 200: WebhookDeliveriesResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { state, before_id, limit } = request.query;
      const page = await webhookDeliveriesList(files, {
        actor: actorOf(request),
        state,
        beforeId: before_id === undefined ? undefined : Number(before_id),
        limit: limit === undefined ? undefined : Number(limit),
      });
      return {
        endpoints: (files.events?.urls ?? []).map(endpointForLog),
        results: page.deliveries.map(serializeDelivery),
        next_before_id: page.nextBeforeId,
      };
    },
  );

  app.post(
    '/api/admin/webhooks/deliveries/:id/resend/',
    {
      schema: {
        tags: webhookTags,
        security,
        summary: 'Send a delivery again now (failed, delivered or waiting), with a new day of retries',
        params: IdParams,
        response: { 200: WebhookDeliveryOut, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) =>
      serializeDelivery(await webhookDeliveryResend(files, { actor: actorOf(request), id: Number(request.params.id) })),
  );
};

const isoOrNull = (millis: number | null) => (millis === null ? null : new Date(millis).toISOString());

export const serializeDelivery = (delivery: Delivery): WebhookDeliveryOutput => ({
  id: delivery.id,
  event_id: delivery.eventId,
  event_type: delivery.eventType,
  endpoint: endpointForLog(delivery.url),
  state: delivery.state,
  attempts: delivery.attempts,
  last_status: delivery.lastStatus,
  last_error: delivery.lastError,
  next_attempt_at: delivery.state === 'pending' ? isoOrNull(delivery.nextAttemptAt) : null,
  created_at: new Date(delivery.createdAt).toISOString(),
  delivered_at: isoOrNull(delivery.deliveredAt),
});

export default adminRoutes;
