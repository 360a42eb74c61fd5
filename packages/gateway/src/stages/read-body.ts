// Reads the request body (under the size limit) once the caller is known.
import { before, type Stage } from '../pipeline.js';
import { readBody } from '../receive.js';

export interface ReadBodyDeps {
  maxBodyBytes: number;
}

export const readBodyStage = ({ maxBodyBytes }: ReadBodyDeps): Stage =>
  before('read-body', async (ctx) => {
    ctx.body = await readBody(ctx.req, maxBodyBytes);
  });
