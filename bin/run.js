#!/usr/bin/env -S node --no-memory-reducer
import {execute} from '@oclif/core';

await execute({dir: import.meta.url});
