import fs from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/http/openapi.js';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

describe('the OpenAPI document', () => {
  let t: TestService;
  let doc: {
    openapi: string;
    paths: Record<string, Record<string, { 'x-roles': unknown; responses: Record<string, unknown> }>>;
  };
  beforeAll(async () => {
    t = await createTestService();
    doc = (await request(t.app).get('/api/v1/openapi.json').expect(200)).body;
  });
  afterAll(async () => t.close());

  it('is OpenAPI 3.1 with the API’s schemas as components', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys((doc as unknown as { components: { schemas: object } }).components.schemas)).toEqual(
      expect.arrayContaining(['Problem', 'Institution', 'Alert', 'Submission', 'UploadReceipt', 'ApiKey']),
    );
  });

  it('declares the roles of every operation, and every documented route exists', async () => {
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(17);
    for (const { path, method, op } of operations) {
      expect(op['x-roles'], `${method} ${path}`).toBeDefined();
      const url = path.replace('{id}', '999999');
      const res = await request(t.app)
        [method as 'get'](url)
        .set({ Authorization: `Bearer ${ADMIN}` });
      // A route that does not exist answers the router's catch-all 404 naming the route.
      expect(res.body?.title ?? '', `${method} ${path}`).not.toMatch(/^Route /);
    }
  });
});

describe('docs/openapi.json', () => {
  it('is the document the service serves (regenerate with npm run docs:api)', () => {
    const committed = JSON.parse(fs.readFileSync('docs/openapi.json', 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument('http://localhost:8080'))));
  });
});
