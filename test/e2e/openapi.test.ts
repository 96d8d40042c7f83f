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

  it('states the roles the routes enforce: a key of another role gets 403, a listed role never does', async () => {
    await request(t.app)
      .post('/api/v1/institutions')
      .set({ Authorization: `Bearer ${ADMIN}` })
      .send({ code: 'B1', name: '一号', type: 'village_bank', county: '鲤城区' })
      .expect(201);
    const keyFor = async (body: object) =>
      (
        await request(t.app)
          .post('/api/v1/keys')
          .set({ Authorization: `Bearer ${ADMIN}` })
          .send(body)
          .expect(201)
      ).body.token as string;
    const keys = {
      supervisor: await keyFor({ name: 's', role: 'supervisor' }),
      institution: await keyFor({ name: 'i', role: 'institution', institution: 'B1' }),
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const roles = op['x-roles'];
        if (roles === 'public') continue;
        for (const [role, token] of Object.entries(keys)) {
          const res = await request(t.app)
            [method as 'get'](path.replace('{id}', '999999'))
            .set({ Authorization: `Bearer ${token}` });
          const allowed = (roles as string[]).includes(role);
          expect(res.status === 403, `${role} ${method} ${path}: ${res.status}`).toBe(!allowed);
        }
      }
    }
  });
});

describe('docs/openapi.json', () => {
  it('is the document the service serves (regenerate with npm run docs:api)', () => {
    const committed = JSON.parse(fs.readFileSync('docs/openapi.json', 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument('http://localhost:8080'))));
  });
});
