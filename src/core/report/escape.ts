/**
 * Text into HTML and SVG: every string the report shows (file names, class names, numbers) goes through
 * here, so a name holding <, &, quotes or a newline can neither break the markup nor add any.
 */

import { displayPath } from '@core/shared/errors';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Safe in element content and in quoted attribute values. The colon of "http:" and "https:" becomes a
 * character reference too: it reads the same, and the file holds no address at all, not even in a name.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]).replace(/(https?):/gi, '$1&#58;');
}

/** A file name as the CLI's messages show it (control characters such as a newline written as \n), escaped. */
export function escapePath(path: string): string {
  return escapeHtml(displayPath(path));
}
