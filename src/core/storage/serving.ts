import contentDisposition from 'content-disposition';

/**
 * Types a browser shows without running anything in them, even from the storage's own origin
 * where no nosniff or CSP header can be added: raster images, audio, video, plain text, PDF.
 * Everything else (HTML, SVG, XML, scripts, and unknown types or application/octet-stream, which
 * browsers may sniff as HTML) is served as an attachment.
 */
const INLINE_SAFE =
  /^(image\/(png|jpeg|gif|webp|avif|bmp)|audio\/[a-z0-9.+-]+|video\/[a-z0-9.+-]+|text\/plain|application\/pdf)\s*(;|$)/i;

export const isInlineSafe = (fileType: string): boolean => INLINE_SAFE.test(fileType.trim());

/** The Content-Type and Content-Disposition a download of a file is answered with. */
export function downloadHeaders(
  fileName: string,
  fileType: string,
): { contentType: string; contentDisposition: string } {
  const inline = isInlineSafe(fileType);
  return {
    contentType: inline ? fileType : 'application/octet-stream',
    contentDisposition: contentDisposition(fileName, { type: inline ? 'inline' : 'attachment' }),
  };
}

/**
 * The Content-Disposition an object is stored with: a public (or CDN) URL serves the object's own
 * headers, so a type not safe inline must download there too.
 */
export const storedDisposition = (fileType: string): string | undefined =>
  isInlineSafe(fileType) ? undefined : 'attachment';
