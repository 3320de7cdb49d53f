#!/usr/bin/env node
// Validates every manifest in deploy/k8s against the Kubernetes OpenAPI schemas
// bundled in the kubernetes-models package (offline). Prints one line per
// resource; exits 1 if any is invalid or of an unknown kind.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const dir = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'deploy', 'k8s');
let failures = 0;
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
  for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))) {
    const resource = doc.toJS();
    if (!resource) continue;
    const where = `${file}: ${resource.kind}/${resource.metadata?.name}`;
    try {
      const models = await import(`kubernetes-models/${resource.apiVersion}`);
      const Model = models[resource.kind];
      if (!Model) throw new Error(`unknown kind ${resource.kind} in ${resource.apiVersion}`);
      new Model(resource).validate();
      console.log(`valid   ${where}`);
    } catch (err) {
      failures++;
      console.log(`INVALID ${where}: ${err.message}`);
    }
  }
}
process.exit(failures === 0 ? 0 : 1);
