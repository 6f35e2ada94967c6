import { fileTypeFromBuffer, supportedMimeTypes } from 'file-type';

/** How much of the start of an upload is kept for sniffing: every format file-type knows needs far less. */
export const SNIFF_BYTES = 64 * 1024;

export const OCTET_STREAM = 'application/octet-stream';

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** The essence of a media type (`Image/PNG; q=1` → `image/png`), or undefined when it is not one. */
export function mediaTypeEssence(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  const essence = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  return MEDIA_TYPE.test(essence) ? essence : undefined;
}

/**
 * The type recorded for an upload, from its first bytes. What the magic numbers say wins. The
 * client's declared type is used only for formats the detector cannot recognise (text, JSON,
 * SVG, ...): when it names a format the detector knows (`image/png`) and the bytes are not that
 * format, the declaration is a lie, and the blob becomes `application/octet-stream`.
 */
export async function detectMimeType(head: Uint8Array, declared: string | undefined): Promise<string> {
  let sniffed: string | undefined;
  try {
    sniffed = (await fileTypeFromBuffer(head))?.mime;
  } catch {
    // A detector tripping over a malformed header means "unknown", not a failed upload.
    sniffed = undefined;
  }
  if (sniffed !== undefined) return sniffed;
  const essence = mediaTypeEssence(declared);
  if (essence === undefined || essence === '*/*' || supportedMimeTypes.has(essence as never)) return OCTET_STREAM;
  return essence;
}

// Types a browser shows inline without ever running script: raster images, audio, video and
// plain text. Everything else (HTML, SVG, XML, PDF, scripts, and any type not known today) is
// served as a download. nosniff and the sandbox CSP are the other two locks on the same door.
const INLINE_PREFIXES = ['image/', 'audio/', 'video/'];
const INLINE_TYPES = new Set(['text/plain', 'application/json', OCTET_STREAM]);

/** The Content-Type getBlob sends for a stored type: the type itself only if it cannot run script. */
export function servingContentType(stored: string): string {
  const essence = mediaTypeEssence(stored);
  if (essence === undefined) return OCTET_STREAM;
  if (INLINE_TYPES.has(essence)) return essence;
  if (essence.includes('xml') || essence.includes('svg') || essence.includes('script') || essence.includes('html')) return OCTET_STREAM;
  return INLINE_PREFIXES.some((p) => essence.startsWith(p)) ? essence : OCTET_STREAM;
}
