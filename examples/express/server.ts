// npx tsx examples/express/server.ts (from the repository's root), then open http://localhost:3000
//   PORT (3000), DATABASE (sqlite:./data/express-example.sqlite, or postgres://...),
//   S3_BUCKET + S3_REGION + S3_ACCESS_KEY + S3_SECRET_KEY (+ S3_ENDPOINT for RGW/MinIO): S3 instead of ./data/uploads
import { startExample } from './app.js';

const env = process.env;
const port = Number(env.PORT ?? 3000);
const storage = env.S3_BUCKET
  ? {
      type: 's3' as const,
      bucket: env.S3_BUCKET,
      region: env.S3_REGION ?? 'us-east-1',
      ...(env.S3_ENDPOINT && { endpoint: env.S3_ENDPOINT }),
      credentials: { accessKeyId: env.S3_ACCESS_KEY ?? '', secretAccessKey: env.S3_SECRET_KEY ?? '' },
    }
  : { type: 'local' as const, root: './data/uploads' };

await startExample({ port, database: env.DATABASE ?? 'sqlite:./data/express-example.sqlite', storage });
console.log(`Express + Chute: http://localhost:${port} (ada@example.com / ada-password)`);
