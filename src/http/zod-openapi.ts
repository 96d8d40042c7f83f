import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// zod 4 fixes a schema's methods when it is built, so the OpenAPI method must be added before the
// API's schemas are: modules defining them import this file first.
extendZodWithOpenApi(z);
