import { z } from "zod";

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: "HG_ERR_VALIDATION" }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: "Error" });
