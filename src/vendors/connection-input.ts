import { z } from 'zod';

/**
 * A vendor's part of a connection body as the admin API receives it: `type`, the settings (stored as they are)
 * and the secrets (stored sealed), split apart after validation. `refused` keys are validated only to say why
 * they are refused; nothing of them is kept.
 */
export function vendorConnectionInput<Type extends string, S extends z.ZodRawShape, K extends z.ZodRawShape>(
  type: Type,
  shapes: { settings: S; secrets: K; refused?: z.ZodRawShape },
) {
  const pick = (input: Record<string, unknown>, shape: z.ZodRawShape) =>
    Object.fromEntries(
      Object.keys(shape)
        .filter((key) => input[key] !== undefined)
        .map((key) => [key, input[key]]),
    );
  return z
    .object({ type: z.literal(type), ...shapes.refused, ...shapes.settings, ...shapes.secrets })
    .transform((input: Record<string, unknown>) => ({
      settings: pick(input, shapes.settings) as z.output<z.ZodObject<S>>,
      secrets: pick(input, shapes.secrets) as z.output<z.ZodObject<K>>,
    }));
}
