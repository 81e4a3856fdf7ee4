import { z } from "zod";
import { ErrorCatalog } from "../errors.ts";

/** One entry of `details`: where, what is wrong there, and whatever else helps fix it. */
export const ErrorDetailSchema = z
  .object({
    path: z
      .string()
      .describe(
        'A dotted field path ("target.url", "events.0.type"), a header name, or "" for the whole body',
      ),
    message: z.string().describe("What is wrong there, in lower case"),
  })
  .catchall(z.unknown())
  .describe(
    "Extra facts sit beside path and message: line and column of a syntax error, the hint of a refused target, the expected order of a 409, the accepted content types of a 415",
  );

/** The API's codes, from the error catalog (src/errors.ts), as the document lists them. */
const API_CODES_NOTE = `One of: ${Object.entries(ErrorCatalog)
  .map(([code, e]) => `${code} (${e.status}: ${e.description})`)
  .join("; ")}`;

const ERROR_EXAMPLE = {
  error: {
    code: "HG_ERR_VALIDATION",
    message: "target.url: invalid URL",
    details: [{ path: "target.url", message: "invalid URL" }],
  },
};

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: "HG_ERR_VALIDATION", description: API_CODES_NOTE }),
      message: z.string().meta({ example: "target.url: invalid URL" }),
      details: z
        .array(ErrorDetailSchema)
        .optional()
        .describe("Every error's details has this one shape: a list of {path, message, …}"),
    }),
  })
  // Without a whole example Swagger UI shows "string" for an error answer.
  .meta({ id: "Error", example: ERROR_EXAMPLE });
