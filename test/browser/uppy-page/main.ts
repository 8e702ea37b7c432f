// The test page: Uppy's Dashboard with @uppy/aws-s3 5.x pointed at Chute's Companion-style routes.
// Bundled by ./build.ts; the test calls startUppy({endpoint, token}) and reads uppyEvents.
import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import AwsS3 from '@uppy/aws-s3';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';

export interface UppyEvent {
  type: 'upload-success' | 'upload-error' | 'complete' | 'error' | 'restriction-failed';
  name?: string;
  size?: number | null;
  uploadURL?: string | undefined;
  error?: string;
  successful?: string[];
  failed?: string[];
}

const events: UppyEvent[] = [];
const progress: Record<string, number> = {};

function startUppy({
  endpoint,
  token,
  multipartAbove = 100 * 2 ** 20,
}: {
  endpoint: string;
  token: string;
  multipartAbove?: number;
}) {
  const uppy = new Uppy({ id: 'chute' })
    .use(Dashboard, {
      inline: true,
      target: '#dashboard',
      height: 520,
      width: '100%',
      proudlyDisplayPoweredByUppy: false,
    })
    .use(AwsS3, {
      endpoint,
      headers: { authorization: `Bearer ${token}` },
      shouldUseMultipart: (file) => (file.size ?? 0) > multipartAbove,
    });
  uppy.on('upload-progress', (file, { bytesUploaded, bytesTotal }) => {
    if (file && bytesTotal)
      progress[file.name ?? '?'] = Math.max(progress[file.name ?? '?'] ?? 0, bytesUploaded / bytesTotal);
  });
  uppy.on('upload-success', (file, response) =>
    events.push({ type: 'upload-success', name: file?.name, size: file?.size, uploadURL: response.uploadURL }),
  );
  uppy.on('upload-error', (file, error) =>
    events.push({ type: 'upload-error', name: file?.name, error: String(error?.message ?? error) }),
  );
  uppy.on('restriction-failed', (file, error) =>
    events.push({ type: 'restriction-failed', name: file?.name, error: error.message }),
  );
  uppy.on('error', (error) => events.push({ type: 'error', error: String(error?.message ?? error) }));
  uppy.on('complete', (result) =>
    events.push({
      type: 'complete',
      successful: (result.successful ?? []).map((f) => f.name ?? '?'),
      failed: (result.failed ?? []).map((f) => f.name ?? '?'),
    }),
  );
  return uppy;
}

Object.assign(globalThis, { startUppy, uppyEvents: events, uppyProgress: progress });
