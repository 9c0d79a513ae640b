/** `/a/b//` → `/a/b`: prefix matches and rewrites compare paths without their trailing slashes. */
export function trimTrailingSlash(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(0, end);
}
