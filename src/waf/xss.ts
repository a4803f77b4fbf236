export function detectXss(_s: string): boolean {
  return false;
}
