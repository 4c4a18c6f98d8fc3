import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderConfigMap } from './configmap.ts';

writeFileSync(resolve(import.meta.dirname, 'configmap.yaml'), renderConfigMap());
