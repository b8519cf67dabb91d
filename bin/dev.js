#!/usr/bin/env node
// Development entry: same as run.js but without the manifest cache (rebuild with `npm run build`).
import {execute} from '@oclif/core';

await execute({development: true, dir: import.meta.url});
