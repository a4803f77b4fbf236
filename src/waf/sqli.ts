export function detectSqli(_s: string): string | null {
  return null;
}
