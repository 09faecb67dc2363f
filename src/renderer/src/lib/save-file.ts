/** Saving a file from the page in the browser host: the browser's own download of a URL (data: or a link). */

export function downloadUrl(url: string, name: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
}
