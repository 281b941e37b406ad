import { z } from 'zod';

/**
 * A secret an admin may give as one string, or as a list while rotating (old and new both valid
 * until the vendor side is switched). Always a list afterwards, so verification has one shape.
 */
export function secretList(minLength: number) {
  const secret = z.string().min(minLength, `use at least ${minLength} random characters`);
  return z.union([secret.transform((value) => [value]), z.array(secret).min(1).max(5)]);
}
