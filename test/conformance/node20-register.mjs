// `node --import ./node20-register.mjs <conformance CLI>`: installs node20-hooks.mjs.
import { register } from 'node:module';
register('./node20-hooks.mjs', import.meta.url);
